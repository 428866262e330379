import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLogger } from '../../config/logger.ts';
import { findKernelSource } from '../../jobs/kernel/kernel-source.ts';
import { ensureRedis } from '../../jobs/queue/local-redis.ts';
import { freePort, shutdownRedis } from '../helpers/redis.ts';

const log = createLogger({ logLevel: 'silent', logFormat: 'json' });
const work = mkdtempSync(join(tmpdir(), 'rfl-provision-'));

function tarball(dir: string, name: string) {
  const staging = join(work, 'staging', name);
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'Makefile'), `# ${name}\n`);
  execFileSync('tar', ['-C', join(work, 'staging'), '-cJf', join(dir, `${name}.tar.xz`), name]);
}

test('the newest Debian linux-source tarball is unpacked once into the cache', async () => {
  const tarballDir = join(work, 'usr-src');
  mkdirSync(tarballDir, { recursive: true });
  tarball(tarballDir, 'linux-source-6.1');
  tarball(tarballDir, 'linux-source-6.10');
  const cacheDir = join(work, 'cache');
  const first = await findKernelSource({ src: '', cacheDir, tarballDir, log });
  assert.deepEqual(first, { ok: true, path: join(cacheDir, 'kernels', 'linux-source-6.10'), unpacked: true });
  const second = await findKernelSource({ src: '', cacheDir, tarballDir, log });
  assert.deepEqual(second, { ...first, unpacked: false });
});

test('a configured tree is used as it is, and a wrong one is explained', async () => {
  const tree = join(work, 'my-linux');
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(tree, 'Makefile'), '');
  assert.deepEqual(await findKernelSource({ src: tree, cacheDir: work, log }), {
    ok: true,
    path: tree,
    unpacked: false,
  });
  const wrong = await findKernelSource({ src: join(work, 'nope'), cacheDir: work, log });
  assert.equal(wrong.ok, false);
  assert.match(wrong.ok ? '' : wrong.userMessage, /no Makefile.*KERNEL_SRC/);
});

test('no tree and no tarball: a message that says what to install', async () => {
  const result = await findKernelSource({ src: '', cacheDir: work, tarballDir: join(work, 'empty'), log });
  assert.equal(result.ok, false);
  assert.match(result.ok ? '' : result.userMessage, /KERNEL_SRC.*linux-source/);
});

const started: string[] = [];
after(async () => {
  for (const url of started) await shutdownRedis(url);
});

test('a local redis-server is started when none answers on loopback, and reused after', async () => {
  const url = `redis://127.0.0.1:${await freePort()}`;
  const cacheDir = join(work, 'redis-cache');
  const first = await ensureRedis({ url, startLocal: true, cacheDir, log });
  started.push(url);
  assert.deepEqual(first, { ok: true, value: { started: true } });
  assert.ok(existsSync(join(cacheDir, 'redis')), 'its data lives under the cache dir');
  assert.deepEqual(await ensureRedis({ url, startLocal: true, cacheDir, log }), {
    ok: true,
    value: { started: false },
  });
});

test('a Redis that does not answer and may not be started is a clear error', async () => {
  const url = `redis://127.0.0.1:${await freePort()}`;
  const result = await ensureRedis({ url, startLocal: false, cacheDir: work, log });
  assert.equal(result.ok, false);
  assert.match(result.ok ? '' : result.failure.logText, /does not answer/);
});

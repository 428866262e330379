import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLogger } from '../../config/logger.ts';
import {
  ensureKernelSource,
  findKernelSource,
  type KernelConfig,
  kernelPlan,
  type SeriesPlan,
} from '../../jobs/kernel/kernel-source.ts';
import { ensureRedis } from '../../jobs/queue/local-redis.ts';
import { defaultConfig } from '../helpers/prepared-tree.ts';
import { freePort, shutdownRedis } from '../helpers/redis.ts';

const log = createLogger({ logLevel: 'silent', logFormat: 'json' });
const work = mkdtempSync(join(tmpdir(), 'rfl-provision-'));

function tarball(dir: string, name: string, files = 1) {
  const staging = join(work, 'staging', name);
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'Makefile'), `# ${name}\n`);
  for (let i = 0; i < files; i++) writeFileSync(join(staging, `file-${i}.c`), `int x${i};\n`);
  execFileSync('tar', ['-C', join(work, 'staging'), '-cJf', join(dir, `${name}.tar.xz`), name]);
  return join(dir, `${name}.tar.xz`);
}

/** A kernel section with one 6.1 series from `spec`, the rest as configured by default. */
function kernelWith(
  spec: Partial<KernelConfig['trees'][number]>,
  extra: Partial<KernelConfig> = {},
): KernelConfig {
  const tree = {
    series: '6.1',
    path: '',
    tarball: '',
    debianSource: '',
    toolchain: 'debian-system',
    ...spec,
  };
  return { ...defaultConfig().kernel, default: '6.1', trees: [tree], ...extra };
}

function onlySeries(kernel: KernelConfig, cacheDir: string): SeriesPlan {
  const plan = kernelPlan(kernel, cacheDir);
  assert.ok(plan.ok);
  return plan.value.series[0]!;
}

test('the configured tarball is unpacked once into the cache; a newer one beside it changes nothing', async () => {
  const tarballDir = join(work, 'usr-src');
  mkdirSync(tarballDir, { recursive: true });
  const configured = tarball(tarballDir, 'linux-source-6.1');
  tarball(tarballDir, 'linux-source-6.10');
  const cacheDir = join(work, 'cache');
  const plan = onlySeries(kernelWith({ tarball: configured }), cacheDir);
  const first = await ensureKernelSource(plan, { cacheDir, log, fetch: false });
  assert.deepEqual(first, { ok: true, value: join(cacheDir, 'kernels', 'linux-source-6.1') });
  const found = await findKernelSource({ kernel: kernelWith({ tarball: configured }), cacheDir, log });
  assert.deepEqual(found, { ok: true, path: join(cacheDir, 'kernels', 'linux-source-6.1'), series: '6.1' });
});

test('the chat side and its embedded worker unpacking the same tarball at once share one unpack', async () => {
  const tarballDir = mkdtempSync(join(work, 'race-'));
  const plan = onlySeries(kernelWith({ tarball: tarball(tarballDir, 'linux-source-6.1', 2000) }), tarballDir);
  const results = await Promise.all(
    [1, 2, 3].map(() => ensureKernelSource(plan, { cacheDir: tarballDir, log, fetch: false })),
  );
  for (const result of results) assert.deepEqual(result, { ok: true, value: plan.sourceDir });
  assert.deepEqual(readdirSync(join(tarballDir, 'kernels')), ['linux-source-6.1'], 'no staging or lock left');
  assert.equal(readdirSync(plan.sourceDir).length, 2001);
});

test('a broken tarball is one short sentence, never tar’s whole complaint', async () => {
  const dir = mkdtempSync(join(work, 'broken-'));
  const broken = join(dir, 'linux-source-6.1.tar.xz');
  writeFileSync(broken, 'not a tarball\n'.repeat(20_000));
  const plan = onlySeries(kernelWith({ tarball: broken }), dir);
  const result = await ensureKernelSource(plan, { cacheDir: dir, log, fetch: false });
  assert.equal(result.ok, false);
  const text = result.ok ? '' : result.failure.userText;
  assert.match(text, /^Could not unpack .*linux-source-6\.1\.tar\.xz; the log has tar's last lines\.$/);
  assert.deepEqual(readdirSync(join(dir, 'kernels')), [], 'no half tree left');
});

test('KERNEL_SRC is served as it is with its series’ toolchain, and a wrong one is explained', async () => {
  const tree = join(work, 'my-linux');
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(tree, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 50\n');
  const plan = kernelPlan({ ...defaultConfig().kernel, src: tree }, work);
  assert.ok(plan.ok);
  assert.equal(plan.value.defaultSeries, '6.1');
  assert.deepEqual(
    plan.value.series.map((s) => [s.series, s.sourceDir, s.toolchain.name]),
    [['6.1', tree, 'debian-system']],
  );
  const wrong = kernelPlan({ ...defaultConfig().kernel, src: join(work, 'nope') }, work);
  assert.equal(wrong.ok, false);
  assert.match(wrong.ok ? '' : wrong.failure.userText, /no Makefile.*KERNEL_SRC/);
});

test('a missing tarball says what to install, and a package not fetched yet is not fetched for answers', async () => {
  const missing = await findKernelSource({
    kernel: kernelWith({ tarball: join(work, 'empty', 'linux-source-6.1.tar.xz') }),
    cacheDir: work,
    log,
  });
  assert.equal(missing.ok, false);
  assert.match(
    missing.ok ? '' : missing.userMessage,
    /install its Debian package \(scripts\/bootstrap\.sh does\)/,
  );
  const notFetched = await findKernelSource({
    kernel: kernelWith({ series: '6.12', debianSource: '6.12.118-1~deb12u1' }, { default: '6.12' }),
    cacheDir: mkdtempSync(join(work, 'fresh-')),
    log,
  });
  assert.match(
    notFetched.ok ? '' : notFetched.userMessage,
    /Linux 6\.12 source is not fetched yet \(npm run provision\)/,
  );
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

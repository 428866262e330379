import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLogger } from '../../config/logger.ts';
import {
  CONFIG_FRAGMENT,
  findPreparedTree,
  listPreparedTrees,
  prepareTree,
  readKernelVersion,
  treeKey,
} from '../../jobs/kernel/kernel-tree.ts';
import { toolchainFor, toolchainVersions } from '../../jobs/kernel/toolchain.ts';
import { defaultConfig, preparedTree } from '../helpers/prepared-tree.ts';

const log = createLogger({ logLevel: 'silent', logFormat: 'json' });
const config = defaultConfig();
/** The toolchain 6.1 is configured with: Debian's installed rustc 1.63 and bindgen 0.60. */
const system = toolchainFor('debian-system', config.kernel.toolchains['debian-system']!, config.cacheDir);
const work = mkdtempSync(join(tmpdir(), 'rfl-tree-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A source tree whose `make rustavailable` says no, so a build attempt fails in a second. */
function fakeSource(): string {
  const source = mkdtempSync(join(work, 'linux-'));
  writeFileSync(
    join(source, 'Makefile'),
    'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 7\nrustavailable:\n\t@echo "*** Rust compiler is too old."; exit 1\n',
  );
  return source;
}

async function keyFor(source: string): Promise<string> {
  return treeKey({
    kernelVersion: '6.1.7',
    sourceDir: source,
    configFragment: CONFIG_FRAGMENT,
    versions: await toolchainVersions(system),
  });
}

test('the real tree is prepared once, with versions, the rustavailable verdict and an untouched source', async () => {
  const tree = await preparedTree();
  assert.equal(tree.series, '6.1');
  assert.match(tree.environment.rustc, /^rustc 1\.63/);
  assert.match(tree.rustAvailable, /Rust is available!/);
  assert.ok(tree.bzImage && existsSync(tree.bzImage));
  assert.ok(tree.sampleModules.includes('rust_minimal'));
  assert.equal(existsSync(join(tree.sourceDir, '.config')), false);
  assert.match(await readFile(join(tree.buildDir, '.config'), 'utf8'), /^CONFIG_RUST=y$/m);
});

test('a second prepareTree returns the cached tree without running make', async () => {
  const tree = await preparedTree();
  const started = Date.now();
  const again = await prepareTree({
    source: tree.sourceDir,
    toolchain: tree.toolchain,
    cacheDir: config.cacheDir,
    log,
  });
  assert.ok(again.ok);
  assert.equal(again.value.cached, true);
  assert.equal(again.value.tree.key, tree.key);
  assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
  assert.equal((await findPreparedTree(config.cacheDir, tree))?.key, tree.key);
  assert.equal(await findPreparedTree(config.cacheDir, { ...tree, sourceDir: '/elsewhere' }), null);
});

test('the cache key follows the kernel version, source, config fragment and toolchain versions', () => {
  const versions = { rustc: 'rustc 1.63.0', bindgen: 'bindgen 0.60.1', clang: 'clang 14' };
  const base = { kernelVersion: '6.1.192', sourceDir: '/src', configFragment: CONFIG_FRAGMENT, versions };
  const key = treeKey(base);
  assert.match(key, /^6\.1\.192-[0-9a-f]{12}$/);
  assert.equal(treeKey({ ...base, configFragment: [...CONFIG_FRAGMENT].reverse() }), key);
  assert.notEqual(
    treeKey({ ...base, configFragment: [...CONFIG_FRAGMENT, 'CONFIG_SAMPLE_RUST_PRINT=m'] }),
    key,
  );
  assert.notEqual(treeKey({ ...base, versions: { ...versions, rustc: 'rustc 1.62.0' } }), key);
  assert.notEqual(treeKey({ ...base, kernelVersion: '6.1.193' }), key);
});

test('an interrupted (stamp-less) or staging tree is never used', async () => {
  const cacheDir = mkdtempSync(join(work, 'cache-'));
  const source = fakeSource();
  const key = await keyFor(source);
  mkdirSync(join(cacheDir, 'trees', key, 'build'), { recursive: true });
  mkdirSync(join(cacheDir, 'trees', `${key}.staging`, 'build'), { recursive: true });
  assert.deepEqual(await listPreparedTrees(cacheDir), []);
  assert.equal(await findPreparedTree(cacheDir, { sourceDir: source, toolchain: system }), null);
  assert.equal(await readKernelVersion(source), '6.1.7');
});

test('a failed preparation names the step, keeps the verdict and leaves no stamp and no lock', async () => {
  const cacheDir = mkdtempSync(join(work, 'cache-'));
  const source = fakeSource();
  const key = await keyFor(source);
  // A lock left by a process that no longer exists is taken over, not waited on.
  mkdirSync(join(cacheDir, 'trees'), { recursive: true });
  writeFileSync(
    join(cacheDir, 'trees', `${key}.lock`),
    JSON.stringify({ pid: 2 ** 22 + 1, host: hostname() }),
  );
  const result = await prepareTree({ source, toolchain: system, cacheDir, log });
  assert.equal(result.ok, false);
  assert.match(result.ok ? '' : result.failure.userText, /failed at make rustavailable[\s\S]*too old/);
  assert.equal(existsSync(join(cacheDir, 'trees', `${key}.lock`)), false);
  assert.deepEqual(await listPreparedTrees(cacheDir), []);
});

test('a second caller waits for the one holding the lock and then uses its tree', async () => {
  const cacheDir = mkdtempSync(join(work, 'cache-'));
  const source = fakeSource();
  const key = await keyFor(source);
  const trees = join(cacheDir, 'trees');
  mkdirSync(trees, { recursive: true });
  writeFileSync(join(trees, `${key}.lock`), JSON.stringify({ pid: process.pid, host: hostname() }));
  const progress: string[] = [];
  const waiting = prepareTree({
    source,
    toolchain: system,
    cacheDir,
    log,
    boot: false,
    onProgress: (t) => progress.push(t),
  });
  await new Promise((done) => setTimeout(done, 300));
  // The "other worker" finishes: a complete tree with its stamp, then the lock goes.
  const environment = { kernelVersion: '6.1.7', ...(await toolchainVersions(system)) };
  mkdirSync(join(trees, key, 'build'), { recursive: true });
  writeFileSync(
    join(trees, key, 'stamp.json'),
    JSON.stringify({
      format: 1,
      sourceDir: source,
      kernelVersion: '6.1.7',
      series: '6.1',
      environment,
      toolchain: system,
      rustAvailable: 'Rust is available!',
      bzImage: null,
      sampleModules: [],
      timings: {},
      configFragment: CONFIG_FRAGMENT,
      preparedAt: new Date().toISOString(),
    }),
  );
  rmSync(join(trees, `${key}.lock`));
  const result = await waiting;
  assert.ok(result.ok, result.ok ? '' : result.failure.userText);
  assert.equal(result.value.cached, true);
  assert.equal(result.value.tree.buildDir, join(trees, key, 'build'));
  assert.match(progress.join('\n'), /another process is preparing/);
});

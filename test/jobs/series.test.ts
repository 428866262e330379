/**
 * Two kernel series side by side, as a newcomer meets them: 6.12 (the default) and 6.1, each built with
 * its own configured toolchain on the real prepared trees; a module written for one series and built on
 * the other says which series it is for in one line; a newer kernel (7.1) is added by naming its tree and
 * toolchain in config, and a toolchain too old for it is refused at provisioning.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../../config/logger.ts';
import type { JobRequest, JobResult } from '../../jobs/contracts.ts';
import { kernelPlan } from '../../jobs/kernel/kernel-source.ts';
import { prepareTree } from '../../jobs/kernel/kernel-tree.ts';
import { toolchainFor } from '../../jobs/kernel/toolchain.ts';
import { KernelTrees } from '../../jobs/kernel/trees.ts';
import { createProcessor } from '../../jobs/processor.ts';
import { kernelTools } from '../../jobs/run-worker.ts';
import { writeKernelTree } from '../helpers/kernel-fixture.ts';
import { defaultConfig, preparedTree } from '../helpers/prepared-tree.ts';

const log = createLogger({ logLevel: 'silent', logFormat: 'json' });
const work = mkdtempSync(join(tmpdir(), 'rfl-series-'));

/** The real prepared trees, with the product's own configuration: 6.12 the default, 6.1 beside it. */
const [tree612, tree61] = await Promise.all([preparedTree('6.12'), preparedTree('6.1')]);
const config = defaultConfig();
const sample = (tree: { sourceDir: string }) =>
  readFileSync(join(tree.sourceDir, 'samples', 'rust', 'rust_minimal.rs'), 'utf8');

async function run(request: JobRequest): Promise<JobResult> {
  const plan = kernelPlan(config.kernel, config.cacheDir);
  assert.ok(plan.ok);
  const process = createProcessor({
    tools: kernelTools(new KernelTrees(plan.value, config.cacheDir, log)),
    limits: { ...config.jobs, buildTimeoutSeconds: 120 },
  });
  return process(request, {
    jobId: 'series',
    signal: new AbortController().signal,
    progress: async () => {},
  });
}

const build = (source: string, extra: Partial<Extract<JobRequest, { kind: 'build' }>> = {}): JobRequest => ({
  kind: 'build',
  source,
  fileName: 'rust_minimal.rs',
  boot: false,
  kernel: null,
  ...extra,
});

test('the configured default is 6.12, with its own rustc and bindgen beside 6.1’s', () => {
  assert.equal(config.kernel.default, '6.12');
  assert.equal(tree612.series, '6.12');
  assert.match(tree612.environment.rustc, /^rustc 1\.96\./);
  assert.match(tree612.environment.bindgen, /^bindgen 0\.69\.5/);
  assert.match(tree61.environment.rustc, /^rustc 1\.63\./);
  assert.match(tree612.rustAvailable, /Rust is available!/);
});

test('a worker starting on a provisioned machine serves and announces both series, 6.12 as the default', async () => {
  const plan = kernelPlan(config.kernel, config.cacheDir);
  assert.ok(plan.ok);
  const trees = new KernelTrees(plan.value, config.cacheDir, log);
  trees.prepareAll();
  await trees.settled();
  assert.deepEqual(trees.series, ['6.12', '6.1']);
  assert.deepEqual(await trees.keys(), { default: tree612.key, '6.12': tree612.key, '6.1': tree61.key });
  const lookup = await trees.get(null, () => assert.fail('nothing to wait for'));
  assert.ok(lookup.ok);
  assert.equal(lookup.tree.key, tree612.key);
  const unknown = await trees.get('5.15', () => {});
  assert.deepEqual(unknown, {
    ok: false,
    userMessage: 'I have no Linux 5.15 tree; I can build against 6.12, 6.1 (--kernel 6.12).',
    ourFault: false,
  });
});

test('today’s rust_minimal.rs (KVec, push(…, GFP_KERNEL)) builds with a plain !build, on 6.12', async () => {
  const result = await run(build(sample(tree612)));
  assert.equal(result.outcome, 'success', result.summary + result.body);
  assert.match(result.summary, /^✅ built rust_minimal\.ko — Linux 6\.12\.\d+, rustc 1\.96\.0/);
});

test('6.1’s rust_minimal.rs builds with --kernel 6.1, on 6.1', async () => {
  const result = await run(build(sample(tree61), { kernel: '6.1' }));
  assert.equal(result.outcome, 'success', result.summary + result.body);
  assert.match(result.summary, /^✅ built rust_minimal\.ko — Linux 6\.1\.\d+, rustc 1\.63\.0/);
});

test('the 6.12 sample built with --kernel 6.1 fails with one line naming its 6.12 APIs and the fix', async () => {
  const result = await run(build(sample(tree612), { kernel: '6.1' }));
  assert.equal(result.outcome, 'compile-error');
  assert.match(result.summary, /Linux 6\.1\.\d+/);
  assert.equal(
    result.body.split('\n')[0],
    '💡 `KVec`, `GFP_KERNEL` and module! with plain strings (`name: "…"`) are Linux 6.12 APIs; this was built against 6.1 — try `!build --kernel 6.12`',
  );
});

test('the 6.1 sample built on the default 6.12 points back to 6.1 (byte strings in module!, try_push)', async () => {
  const result = await run(build(sample(tree61)));
  assert.equal(result.outcome, 'compile-error');
  assert.match(result.summary, /Linux 6\.12\.\d+/);
  const [hint] = result.body.split('\n');
  assert.match(
    hint ?? '',
    /module! with byte strings \(`name: b"…"`\) are Linux 6\.1 APIs; this was built against 6\.12 — try `!build --kernel 6\.1`$/,
  );
});

test('an error that is not about versions gets no series hint', async () => {
  const result = await run(
    build(sample(tree612).replace('Ok(RustMinimal { numbers })', 'Ok(RustMinimal { numbers: 5 })')),
  );
  assert.equal(result.outcome, 'compile-error');
  assert.doesNotMatch(result.body, /try `!build --kernel/);
});

test('--boot on 6.12 loads the module and shows its init and exit lines', async () => {
  const result = await run(build(sample(tree612), { boot: true }));
  assert.equal(result.outcome, 'success', result.summary + result.body);
  assert.match(result.summary, /loaded and unloaded cleanly — Linux 6\.12/);
  assert.match(result.body, /rust_minimal: Rust minimal sample \(init\)/);
  assert.match(result.body, /rust_minimal: Rust minimal sample \(exit\)/);
});

test('!sample rust_minimal --boot works on 6.1 too', async () => {
  const result = await run({ kind: 'sample', name: 'rust_minimal', boot: true, kernel: '6.1' });
  assert.equal(result.outcome, 'success', result.summary + result.body);
  assert.match(result.body, /Rust minimal sample \(exit\)/);
});

test('while 6.12’s kernel image is still being built, !build works and --boot says it comes later', async () => {
  // The tree as a fresh worker has it first: modules_prepare done, no bzImage and no Module.symvers yet.
  const buildDir = join(work, 'build-only');
  execFileSync('cp', ['-al', tree612.buildDir, buildDir]);
  rmSync(join(buildDir, 'Module.symvers'));
  const buildOnly = { ...tree612, buildDir, bzImage: null };
  const plan = kernelPlan(config.kernel, config.cacheDir);
  assert.ok(plan.ok);
  const real = kernelTools(new KernelTrees(plan.value, config.cacheDir, log));
  const process = createProcessor({
    tools: { ...real, tree: async () => ({ ok: true, tree: buildOnly, bootLater: true }) },
    limits: { ...config.jobs, buildTimeoutSeconds: 120 },
  });
  const context = { jobId: 'early', signal: new AbortController().signal, progress: async () => {} };
  const built = await process(build(sample(tree612)), context);
  assert.equal(built.outcome, 'success', built.summary + built.body);
  assert.match(built.summary, /^✅ built rust_minimal\.ko — Linux 6\.12/);
  assert.equal(built.warnings, 0, 'modpost’s unchecked symbols are not the user’s warnings');
  const boot = await process(build(sample(tree612), { boot: true }), context);
  assert.match(boot.body, /^Not booted yet: the Linux 6\.12 kernel image is still being built/);
});

/** A 7.1 tree (no real kernel: only its version and its scripts/min-tool-version.sh) and fake tools. */
function kernel71(): { tree: string; tools: string } {
  const tree = writeKernelTree(join(work, 'linux-7.1'), {
    version: '7.1.0',
    rustc: '1.85.0',
    bindgen: '0.71.1',
    configNote: 'mainline',
  });
  const tools = join(work, 'tools');
  mkdirSync(tools, { recursive: true });
  const says = { rustc: 'rustc 1.100.0 (a version past 1.99)', bindgen: 'bindgen 0.71.1' };
  for (const [name, line] of Object.entries(says)) {
    writeFileSync(join(tools, name), `#!/bin/sh\necho "${line}"\n`, { mode: 0o755 });
  }
  return { tree, tools };
}

test('an operator adds 7.1 by naming its tree and toolchain; a toolchain too old for it is refused', async () => {
  const { tree, tools } = kernel71();
  const yaml = join(work, 'rfl-onboard.yaml');
  writeFileSync(
    yaml,
    [
      'kernel:',
      '  default: "6.12"',
      '  trees:',
      '    - { series: "6.12", debianSource: "6.12.118-1~deb12u1", toolchain: rust-1.96 }',
      `    - { series: "7.1", path: ${tree}, toolchain: rust-next }`,
      '  toolchains:',
      '    rust-1.96: { debianRust: "1.96.0+dfsg1-1~deb12u2", bindgenCrate: "0.69.5" }',
      `    rust-next: { rustc: ${join(tools, 'rustc')}, bindgen: ${join(tools, 'bindgen')}, minRustc: "1.85.0", minBindgen: "0.71.1" }`,
      '',
    ].join('\n'),
  );
  const loaded = loadConfig({ env: { RFL_CONFIG: yaml } });
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.problems.join('\n'));
  const plan = kernelPlan(loaded.config.kernel, work);
  assert.ok(plan.ok);
  assert.deepEqual(
    plan.value.series.map((s) => [s.series, s.toolchain.name]),
    [
      ['6.12', 'rust-1.96'],
      ['7.1', 'rust-next'],
    ],
  );
  const next = plan.value.series[1]!;
  assert.equal(next.sourceDir, tree);

  // Its own toolchain passes the minimums (1.100.0 is newer than 1.85.0: compared as numbers) and
  // preparation goes on to make, which this fixture has nothing for.
  const own = await prepareTree({
    source: tree,
    toolchain: next.toolchain,
    minimums: next.toolchainSpec,
    cacheDir: work,
    log,
    boot: false,
  });
  assert.equal(own.ok, false);
  assert.match(own.ok ? '' : own.failure.userText, /failed at make rustavailable/);

  // The system toolchain (rustc 1.63, bindgen 0.60) is refused before any make, naming both minimums.
  const system = config.kernel.toolchains['debian-system']!;
  const old = await prepareTree({
    source: tree,
    toolchain: toolchainFor('debian-system', system, work),
    minimums: system,
    cacheDir: work,
    log,
    boot: false,
  });
  assert.equal(old.ok, false);
  assert.match(
    old.ok ? '' : old.failure.userText,
    /^Linux 7\.1\.0 needs rustc >= 1\.85\.0 \(toolchain "debian-system" has 1\.63\.0\) and bindgen >= 0\.71\.1 \(toolchain "debian-system" has 0\.60\.1\)/,
  );
});

test('a tree naming a toolchain that is not configured is a config error', () => {
  const yaml = join(work, 'bad.yaml');
  writeFileSync(
    yaml,
    'kernel:\n  trees:\n    - { series: "7.1", path: /src/linux, toolchain: rust-next }\n  default: "7.1"\n',
  );
  const loaded = loadConfig({ env: { RFL_CONFIG: yaml } });
  assert.equal(loaded.ok, false);
  assert.match(loaded.ok ? '' : loaded.problems.join('\n'), /no toolchain "rust-next" in kernel\.toolchains/);
});

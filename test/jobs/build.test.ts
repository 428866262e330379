import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import {
  type BuildOptions,
  buildModule,
  buildSample,
  type ModuleBuild,
  moduleName,
} from '../../jobs/build/build.ts';
import { minimalModule } from '../../jobs/build/module-template.ts';
import type { PreparedTree } from '../../jobs/kernel/kernel-tree.ts';
import { CONTROL_CHARACTER, deeplyNested, withInit } from '../helpers/hostile-output.ts';
import { defaultConfig, preparedTree } from '../helpers/prepared-tree.ts';

let tree: PreparedTree;
let options: BuildOptions;
const builds: ModuleBuild[] = [];
const work = mkdtempSync(join(tmpdir(), 'rfl-build-test-'));

before(async () => {
  tree = await preparedTree();
  options = { limits: { ...defaultConfig().jobs, buildTimeoutSeconds: 120 } };
});
after(async () => {
  await Promise.all(builds.map((b) => b.cleanup()));
  rmSync(work, { recursive: true, force: true });
});

async function build(source: string, fileName: string | null = 'hello.rs'): Promise<ModuleBuild> {
  const result = await buildModule({ source, fileName }, tree, options);
  builds.push(result);
  return result;
}

test('the minimal module template builds against the tree', async () => {
  const result = await build(minimalModule(tree.series));
  assert.equal(result.outcome, 'success', result.log);
  assert.equal(result.errors, 0);
  assert.ok(result.koPath && existsSync(result.koPath));
  assert.equal(result.environment.kernelVersion, tree.kernelVersion);
});

test('a type error is a compile error with the block as rustc printed it and the right counts', async () => {
  const result = await build(withInit('let answer: u32 = "forty-two";'));
  assert.equal(result.outcome, 'compile-error');
  assert.equal(result.errors, 1);
  assert.equal(result.koPath, null);
  assert.match(result.firstErrors, /^error\[E0308\]: mismatched types\n\s+--> hello\.rs:\d+:\d+\n/);
  assert.match(result.firstErrors, /"forty-two"/);
  assert.doesNotMatch(result.log, /\/work\/|\/kernel\//);
});

test('warnings are counted and do not fail the build', async () => {
  const result = await build(withInit('let unused = 1;', '\nfn never_called() {}\n'));
  assert.equal(result.outcome, 'success', result.log);
  assert.equal(result.warnings, 2);
  assert.equal(result.errors, 0);
});

test('the minimal in-tree sample builds like a user module; an unknown sample lists the real ones', async () => {
  const sample = await buildSample('rust_minimal', tree, options);
  builds.push(sample);
  assert.equal(sample.outcome, 'success', sample.log);
  assert.ok(sample.koPath?.endsWith('rust_minimal.ko'));
  const unknown = await buildSample('../../etc/passwd', tree, options);
  assert.equal(unknown.outcome, 'compile-error');
  assert.match(unknown.message ?? '', /no Rust sample .*samples are: .*rust_minimal/);
});

test('a gigantic source is refused before any build', async () => {
  const result = await build(`// ${'x'.repeat(options.limits.maxSourceKb * 1024)}\n`);
  assert.equal(result.outcome, 'limit');
  assert.equal(result.limitHit, 'source-size');
  assert.equal(result.scratchDir, null);
  assert.match(result.message ?? '', /KB/);
});

test('file names never escape the scratch dir and never reach the Kbuild file raw', async () => {
  assert.equal(moduleName('../../etc/x.rs', ''), 'x');
  assert.equal(moduleName('/etc/passwd', ''), 'passwd');
  assert.equal(moduleName('C:\\Users\\me\\My Module.rs', ''), 'my_module');
  assert.equal(moduleName('a.o\nobj-m += $(shell id).rs', ''), 'a_o_obj_m_shell_id');
  assert.equal(moduleName(null, 'module! { type: X, name: b"from_macro", license: b"GPL", }'), 'from_macro');
  assert.equal(
    moduleName('My Module.rs', 'module! { type: X, name: b"hello", }'),
    'hello',
    'the log prefix wins',
  );
  assert.equal(moduleName('...rs', ''), 'rfl_module');
  assert.equal(moduleName('kernel.rs', ''), 'kernel_module');
  const result = await build(minimalModule('6.1'), '../../etc/x.rs');
  assert.equal(result.outcome, 'success', result.log);
  // Built inside the scratch dir, under the template's module! name.
  assert.equal(result.koPath, join(result.scratchDir ?? '', 'hello.ko'));
  assert.equal(existsSync('/etc/x.rs'), false);
});

test('a module! name with a run of 200,000 underscores inside is named at once', () => {
  const started = performance.now();
  assert.equal(moduleName(null, `module! { name: b"a${'_'.repeat(200_000)}x", }`), 'a');
  assert.ok(performance.now() - started < 500, `took ${(performance.now() - started).toFixed(0)} ms`);
});

// Hostile sources: each fails cleanly and the secret never shows up in anything the user sees.
const secretDir = mkdtempSync(join(tmpdir(), 'rfl-secret-'));
const secretFile = join(secretDir, 'token.txt');
writeFileSync(secretFile, 'fake-secret-4b1d9e');
after(() => rmSync(secretDir, { recursive: true, force: true }));

function assertLeaksNothing(result: ModuleBuild, secret: RegExp) {
  assert.ok(['compile-error', 'limit'].includes(result.outcome), `${result.outcome}\n${result.log}`);
  assert.equal(result.koPath, null);
  for (const text of [result.log, result.firstErrors, result.message ?? ''])
    assert.doesNotMatch(text, secret);
}

test('include_str! of /etc/passwd does not compile and shows nothing of it', async () => {
  const result = await build(withInit('let _p = include_str!("/etc/passwd");'));
  assertLeaksNothing(result, /root:/);
  assert.match(result.firstErrors, /couldn't read/);
});

test("include_bytes! of the project's config and of a secret file outside the scratch dir", async () => {
  const config = resolve('config/rfl-onboard.sample.yaml');
  const result = await build(
    withInit(`let _c = include_bytes!("${config}");\n        let _s = include_bytes!("${secretFile}");`),
  );
  assertLeaksNothing(result, /fake-secret|logLevel|redis:/);
  assert.equal(result.errors, 2);
});

test('#[path] modules pointing at host files do not compile', async () => {
  const result = await build(
    withInit('', `\n#[path = "/etc/hostname"]\nmod host;\n#[path = "${secretFile}"]\nmod secret;\n`),
  );
  assertLeaksNothing(result, /fake-secret/);
});

test("include_str! of /proc/self/environ does not see the worker's environment", async () => {
  process.env.RFL_FAKE_TOKEN = 'tok-env-secret-91ac';
  const result = await build(withInit('let _e = include_str!("/proc/self/environ");'));
  assert.doesNotMatch(result.log, /tok-env-secret/);
  assert.doesNotMatch(result.firstErrors, /tok-env-secret/);
  // It may build: the sandboxed rustc's own environment holds only the variables the sandbox set.
  assert.notEqual(result.outcome, 'infrastructure', result.log);
  if (result.koPath) assert.doesNotMatch(readFileSync(result.koPath, 'latin1'), /tok-env-secret/);
});

test('global_asm! with .incbin of /etc/shadow and of a secret file fails without leaking', async () => {
  const result = await build(
    withInit('', `\ncore::arch::global_asm!(".incbin \\"/etc/shadow\\"", ".incbin \\"${secretFile}\\"");\n`),
  );
  assertLeaksNothing(result, /fake-secret|root:/);
});

test('endless const evaluation and macro recursion stop with an error', async () => {
  const endless = await build(
    withInit(
      'let _n = SPIN;',
      '\nconst SPIN: u64 = { let mut i = 0u64; loop { i = i.wrapping_add(1); } };\n',
    ),
  );
  assert.ok(['compile-error', 'limit'].includes(endless.outcome), endless.log);
  const recursive = await build(withInit('', '\nmacro_rules! again { () => { again!(); }; }\nagain!();\n'));
  assert.equal(recursive.outcome, 'compile-error', recursive.log);
  assert.match(recursive.firstErrors, /recursion limit reached/);
});

test('a compiler crash on the code is the user’s result, named with its signal, not our failure', async () => {
  const result = await build(deeplyNested());
  assert.equal(result.outcome, 'compile-error', result.log.slice(-2000));
  assert.equal(result.silentFailure, 'the compiler crashed (signal SIGSEGV) on this code');
  assert.equal(result.koPath, null);
  assert.match(result.message ?? '', /nesting/);
});

test('a failure before the compiler reached the code stays ours', async () => {
  const emptyBuild = mkdtempSync(join(work, 'unconfigured-'));
  const result = await buildModule(
    { source: minimalModule('6.1'), fileName: 'hello.rs' },
    { ...tree, buildDir: emptyBuild },
    options,
  );
  builds.push(result);
  assert.equal(result.outcome, 'infrastructure', result.log);
  assert.match(result.message ?? '', /before the compiler started/);
});

test('control characters in a source line rustc quotes reach neither the error blocks nor the log', async () => {
  const result = await build(
    withInit('let answer: u32 = "\x1b]52;c;ZXZpbA==\x07\x1b]0;pwned\x07\x07\u009b2J";'),
  );
  assert.equal(result.outcome, 'compile-error');
  assert.match(result.firstErrors, /let answer: u32 = "";/);
  for (const text of [result.firstErrors, result.log]) assert.doesNotMatch(text, CONTROL_CHARACTER);
});

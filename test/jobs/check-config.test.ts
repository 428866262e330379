import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { type CheckLimits, checkConfig, MAX_INPUT_BYTES } from '../../jobs/doctor/check-config.ts';
import { formatExpr, readKconfig, selectorsOf } from '../../jobs/doctor/kconfig.ts';
import type { PreparedTree } from '../../jobs/kernel/kernel-tree.ts';
import { makeArgs, makeEnv } from '../../jobs/kernel/toolchain.ts';
import { defaultConfig, preparedTree } from '../helpers/prepared-tree.ts';

let tree: PreparedTree;
let limits: CheckLimits;
/** The prepared tree's own config: tinyconfig plus RUST, modules and the Rust samples. */
let tinyRust: string;

before(async () => {
  tree = await preparedTree();
  limits = { ...defaultConfig().jobs, buildTimeoutSeconds: 120 };
  tinyRust = readFileSync(join(tree.buildDir, '.config'), 'utf8');
});

const check = (text: string) => checkConfig(text, tree, { limits });

test("6.1's real Kconfig: RUST's depends on lines and who selects HAVE_RUST", async () => {
  const kconfig = await readKconfig({ sourceDir: tree.sourceDir, srcarch: 'x86' });
  assert.deepEqual(kconfig.problems, []);
  const rust = kconfig.entries.get('RUST')?.[0];
  assert.equal(rust?.file, 'init/Kconfig');
  assert.deepEqual(
    rust?.dependsOn.map((d) => formatExpr(d)),
    [
      'HAVE_RUST',
      'RUST_IS_AVAILABLE',
      '!CFI_CLANG',
      '!MODVERSIONS',
      '!GCC_PLUGINS',
      '!RANDSTRUCT',
      '!SHADOW_CALL_STACK',
      '!DEBUG_INFO_BTF || PAHOLE_HAS_LANG_EXCLUDE && !LTO',
    ],
  );
  assert.deepEqual(
    selectorsOf(kconfig, 'HAVE_RUST').map((s) => `${s.by.name} if ${s.condition && formatExpr(s.condition)}`),
    ['X86 if X86_64'],
  );
});

test('a 32-bit x86 config: HAVE_RUST fails, and the verified fix goes through 64BIT', async () => {
  const result = await check(tinyRust.replace('CONFIG_64BIT=y', '# CONFIG_64BIT is not set'));
  assert.deepEqual(
    result.unmetAfterOlddefconfig.map((t) => `${t.term} [=${t.current}]`),
    ['HAVE_RUST [=n]'],
  );
  assert.equal(result.survives, true);
  assert.equal(result.fixLines[0], 'scripts/config --file .config --enable 64BIT --enable RUST');
});

test('tinyconfig with RUST: set, reachable, survives olddefconfig, nothing to fix', async () => {
  const result = await check(tinyRust);
  assert.equal(result.outcome, 'config-ok', result.body);
  assert.match(result.summary, /^✅ CONFIG_RUST=y is set and reachable — Linux 6\.1\.\d+.*rustc 1\.63\.0/);
  assert.equal(result.rustSet, true);
  assert.equal(result.survives, true);
  assert.deepEqual(result.unmet, []);
  assert.deepEqual(result.fixLines, []);
});

test('MODVERSIONS=y: the failing term with its value, and a fix line that olddefconfig really accepts', async () => {
  const result = await check(`${tinyRust}CONFIG_MODVERSIONS=y\n`);
  assert.equal(result.outcome, 'config-problems');
  assert.match(result.summary, /^❌/);
  assert.deepEqual(
    result.unmet.map((t) => `${t.term} [=${t.current}]`),
    ['!MODVERSIONS [=y]'],
  );
  assert.match(result.body, /!MODVERSIONS \[=y\]/);
  assert.equal(result.survives, true);
  assert.deepEqual(result.fixLines, [
    'scripts/config --file .config --disable MODVERSIONS --enable RUST',
    'make LLVM=1 olddefconfig',
  ]);
  assert.ok(result.body.endsWith('make LLVM=1 olddefconfig'), 'fix lines come last');

  // Independently of the doctor: the printed line, then olddefconfig, on a copy of the config.
  const out = mkdtempSync(join(tmpdir(), 'rfl-config-test-'));
  try {
    writeFileSync(join(out, '.config'), `${tinyRust}CONFIG_MODVERSIONS=y\n`);
    const args = (result.fixLines[0] as string).split(' ').slice(1);
    execFileSync(join(tree.sourceDir, 'scripts', 'config'), args, { cwd: out });
    execFileSync(
      'make',
      ['-s', '-C', tree.sourceDir, `O=${out}`, ...makeArgs(tree.toolchain), 'olddefconfig'],
      {
        env: makeEnv(tree.toolchain),
        stdio: 'pipe',
      },
    );
    const resolved = readFileSync(join(out, '.config'), 'utf8');
    assert.match(resolved, /^CONFIG_RUST=y$/m);
    assert.match(resolved, /^# CONFIG_MODVERSIONS is not set$/m);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('a fragment is judged on what it says; pasted rustc output in it is checked too', async () => {
  const result = await check(
    'CONFIG_MODULES=y\n# CONFIG_RUST is not set\nCONFIG_DEBUG_INFO_BTF=y\n\n$ rustc --version\nrustc 1.58.1 (db9d1b20b 2022-01-20)\n',
  );
  assert.equal(result.rustSet, false);
  assert.match(result.body, /CONFIG_RUST in your config: not set/);
  assert.match(result.body, /rustc 1\.58\.1 is too old/);
  assert.equal(result.ignoredLines, 1, 'only the "$ rustc --version" prompt line');
  assert.equal(result.survives, true);
  assert.match(result.fixLines[0] ?? '', /--enable RUST$/);
  assert.equal(result.outcome, 'config-problems');
});

test('garbage: binary data, a 10 MB paste and prose get a friendly answer, not a crash', async () => {
  const binary = await check(
    Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256))
      .toString('latin1')
      .replace(/[\n]/g, '\0'),
  );
  assert.match(binary.summary, /^❌ I could not read that/);
  assert.match(binary.body, /binary data/);
  const huge = await check('CONFIG_A=y\n'.repeat((10 * 1024 * 1024) / 11));
  assert.ok(MAX_INPUT_BYTES < 10 * 1024 * 1024);
  assert.match(huge.body, /10\.0 MB; a \.config is a few hundred KB/);
  const prose = await check('hi, my kernel does not build, can you help?\nthanks');
  assert.match(prose.summary, /^❌ I found no config lines/);
  assert.equal(prose.ignoredLines, 2);
  assert.equal(prose.survives, null);
});

test('a config for an architecture without Rust in 6.1 says so without an x86 olddefconfig', async () => {
  const result = await check('CONFIG_ARM64=y\nCONFIG_RUST=y\nCONFIG_MODULES=y\n');
  assert.equal(result.outcome, 'config-problems');
  assert.match(result.summary, /for arm64; no Rust there/);
  assert.match(result.body, /supports Rust on: x86 \(if X86_64\)/);
  assert.equal(result.survives, null);
});

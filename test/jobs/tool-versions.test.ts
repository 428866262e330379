import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { checkToolVersions, type ToolRules, toolRulesFor } from '../../jobs/doctor/tool-version-check.ts';
import type { PreparedTree } from '../../jobs/kernel/kernel-tree.ts';
import { preparedTree } from '../helpers/prepared-tree.ts';

let tree: PreparedTree;
let rules: ToolRules;

before(async () => {
  tree = await preparedTree();
  rules = await toolRulesFor(tree.sourceDir, tree.kernelVersion);
});

test("the tree's own scripts give 6.1's rules: exactly rustc 1.62.0 and bindgen 0.56.0, newer ones warned about", () => {
  assert.equal(tree.series, '6.1');
  assert.deepEqual(
    { rustc: rules.rustc, bindgen: rules.bindgen, llvm: rules.llvm, warnsTooNew: rules.warnsTooNew },
    { rustc: '1.62.0', bindgen: '0.56.0', llvm: '11.0.0', warnsTooNew: true },
  );
});

test('pasted --version lines: newer is "too new" with install advice for that era, older is an error', () => {
  const check = checkToolVersions(
    '$ rustc --version\nrustc 1.78.0 (9b00956e5 2024-04-29)\n$ bindgen --version\nbindgen 0.69.4\n',
    rules,
  );
  assert.deepEqual(check.lines, [2, 4]);
  const [rustc, bindgen] = check.findings;
  assert.equal(rustc?.status, 'too-new');
  assert.match(
    rustc?.text ?? '',
    /rustc 1\.78\.0 is too new: it may work but is unsupported; Linux 6\.1\.\d+ expects 1\.62\.0/,
  );
  assert.match(rustc?.text ?? '', /rustup override set 1\.62\.0/);
  assert.match(rustc?.text ?? '', /rustup component add rust-src/);
  assert.equal(bindgen?.status, 'too-new');
  // 0.56 predates the bindgen-cli crate.
  assert.match(bindgen?.text ?? '', /cargo install --locked --version 0\.56\.0 bindgen\b(?!-cli)/);

  const old = checkToolVersions('rustc 1.58.1 (db9d1b20b 2022-01-20)\nbindgen 0.56.0', rules);
  assert.equal(old.findings[0]?.status, 'too-old');
  assert.match(old.findings[0]?.text ?? '', /^❌ rustc 1\.58\.1 is too old: Linux 6\.1\.\d+ needs 1\.62\.0/);
  assert.equal(old.findings[1]?.status, 'ok');
});

test('a newer kernel without the "too new" warning treats newer tools as fine and names bindgen-cli', () => {
  const newer: ToolRules = {
    kernelVersion: '6.12.0',
    rustc: '1.78.0',
    bindgen: '0.65.1',
    llvm: '13.0.1',
    warnsTooNew: false,
  };
  const check = checkToolVersions('rustc 1.83.0-nightly (1bc403daa 2024-10-11)\nbindgen 0.60.1', newer);
  assert.equal(check.findings[0]?.status, 'ok');
  assert.match(check.findings[1]?.text ?? '', /too old: Linux 6\.12\.0 needs at least 0\.65\.1.*bindgen-cli/);
});

test('clang --version is checked against the LLVM minimum', () => {
  const check = checkToolVersions(
    'Debian clang version 14.0.6\nTarget: x86_64-pc-linux-gnu\nThread model: posix\n',
    rules,
  );
  assert.equal(check.findings.length, 1);
  assert.equal(check.findings[0]?.tool, 'clang');
  assert.equal(check.findings[0]?.status, 'ok');
  assert.deepEqual(check.lines, [1]);
});

test('make rustavailable output: the real warnings of this tree, then its verdict', () => {
  const check = checkToolVersions(tree.rustAvailable, rules);
  assert.equal(check.verdict, 'Rust is available!');
  assert.deepEqual(
    check.findings.map((f) => [f.tool, f.found, f.status]),
    [
      ['rustc', '1.63.0', 'too-new'],
      ['bindgen', '0.60.1', 'too-new'],
    ],
  );
  assert.equal(check.lines.length, tree.rustAvailable.trim().split('\n').length);
});

test('make rustavailable failures: a missing rust-src and a missing rustc get their own advice', () => {
  const noSrc = checkToolVersions(
    "***\n*** Source code for the 'core' standard library could not be found\n*** at '/usr/lib/rustlib/src/rust/library/core/src/lib.rs'.\n***\n",
    rules,
  );
  assert.equal(noSrc.findings[0]?.tool, 'rust-src');
  assert.match(noSrc.findings[0]?.text ?? '', /rustup component add rust-src/);
  const noRustc = checkToolVersions("***\n*** Rust compiler 'rustc' could not be found.\n***\n", rules);
  assert.equal(noRustc.findings[0]?.status, 'missing');
  assert.match(noRustc.findings[0]?.text ?? '', /rustup override set 1\.62\.0/);
  const tooOld = checkToolVersions(
    "***\n*** Rust compiler 'rustc' is too old.\n***   Your version:    1.59.0\n***   Minimum version: 1.62.0\n***\n",
    rules,
  );
  assert.deepEqual(
    tooOld.findings.map((f) => [f.found, f.status]),
    [['1.59.0', 'too-old']],
  );
});

test('text that is not tool output is left alone', () => {
  const check = checkToolVersions('CONFIG_RUST=y\nmy rustc is 1.70 I think\n', rules);
  assert.deepEqual(check, { findings: [], verdict: null, lines: [] });
});

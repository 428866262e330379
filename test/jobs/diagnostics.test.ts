import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  countDiagnostics,
  displayText,
  firstErrors,
  parseDiagnostics,
} from '../../jobs/build/diagnostics.ts';
import { CONTROL_CHARACTER } from '../helpers/hostile-output.ts';

/** Real `make M=` outputs from the sandbox against the 6.1 tree (captured once, paths as rustc saw them). */
const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/jobs/${name}.txt`, import.meta.url), 'utf8');

test('each rustc error is one block with its code, location and quoted source, as printed', () => {
  const blocks = parseDiagnostics(fixture('many-errors'));
  assert.deepEqual(
    blocks.map((b) => [b.severity, b.code, b.location]),
    [
      ['error', 'E0425', 'hello.rs:19:17'],
      ['error', 'E0308', 'hello.rs:20:22'],
    ],
  );
  assert.equal(
    blocks[0]?.text,
    [
      'error[E0425]: cannot find value `undefined_name` in this scope',
      '  --> hello.rs:19:17',
      '   |',
      '19 |         let x = undefined_name;',
      '   |                 ^^^^^^^^^^^^^^ not found in this scope',
    ].join('\n'),
  );
  assert.match(blocks[1]?.text ?? '', /expected due to this$/);
});

test('summary lines and make chatter are neither blocks nor part of one', () => {
  const blocks = parseDiagnostics(fixture('many-errors'));
  const all = blocks.map((b) => b.text).join('\n');
  assert.doesNotMatch(all, /aborting due to|Some errors have|For more information|make\[|RUSTC \[M\]/);
  assert.deepEqual(countDiagnostics(blocks), { errors: 2, warnings: 0 });
});

test('warnings are counted without the "N warnings emitted" line, and kbuild lines end the last one', () => {
  const blocks = parseDiagnostics(fixture('warnings-only'));
  assert.deepEqual(countDiagnostics(blocks), { errors: 0, warnings: 2 });
  assert.match(blocks[1]?.text ?? '', /= note: `#\[warn\(dead_code\)\]` on by default$/);
  assert.equal(firstErrors(blocks, 1000).text, '');
});

test('notes under an error (const evaluation limit) stay in its block', () => {
  const [block] = parseDiagnostics(fixture('const-eval'));
  assert.equal(block?.code, null);
  assert.equal(block?.message, 'any use of this value will cause an error');
  assert.match(block?.text ?? '', /exceeded interpreter step limit[\s\S]*issue #71800/);
});

test('firstErrors keeps whole blocks within the budget and says how many were left out', () => {
  const blocks = parseDiagnostics(fixture('many-errors'));
  const first = blocks[0]?.text ?? '';
  const one = firstErrors(blocks, first.length + 10);
  assert.deepEqual([one.text, one.shown, one.omitted], [first, 1, 1]);
  const both = firstErrors(blocks, 10_000);
  assert.equal(both.text, `${first}\n\n${blocks[1]?.text}`);
  // A budget smaller than the first block still shows that block whole rather than cutting it.
  assert.equal(firstErrors(blocks, 20).text, first);
});

test('sandbox paths are shown as the user knows them', () => {
  assert.equal(
    displayText(
      "  --> /work/hello.rs:3:1\nmake[1]: Entering directory '/kernel/build'\n/kernel/src/rust/kernel/lib.rs",
    ),
    "  --> hello.rs:3:1\nmake[1]: Entering directory 'linux'\nlinux/rust/kernel/lib.rs",
  );
  for (const name of ['type-error', 'include-str', 'macro-recursion']) {
    const text = parseDiagnostics(fixture(name))
      .map((b) => b.text)
      .join('\n');
    assert.doesNotMatch(text, /\/work|\/kernel\//, name);
    assert.match(text, /--> hello\.rs:\d+:\d+/, name);
  }
});

test('source lines rustc quotes lose their control characters, in the blocks and in the shown text', () => {
  // As rustc 1.63 prints a source line holding raw escape sequences: byte for byte.
  const output = [
    'error[E0308]: mismatched types',
    '  --> /work/hello.rs:3:27',
    '   |',
    '3 |         let answer: u32 = "\x1b]52;c;ZXZpbA==\x07\x1b]0;pwned\x07\x07\x1b[2J";',
    '   |                     ---   ^^^^ expected `u32`, found `&str`',
    '',
  ].join('\r\n');
  const [block] = parseDiagnostics(output);
  assert.equal(block?.location, 'hello.rs:3:27');
  assert.match(block?.text ?? '', /^3 \| {9}let answer: u32 = "";$/m);
  for (const text of [block?.text ?? '', displayText(output)]) {
    assert.doesNotMatch(text, CONTROL_CHARACTER);
  }
});

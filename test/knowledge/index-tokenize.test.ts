import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze, analyzeDistinct, stem } from '../../knowledge/tokenize.ts';

function includesAll(text: string, expected: string[]): void {
  const terms = analyze(text);
  for (const term of expected)
    assert.ok(terms.includes(term), `${JSON.stringify(text)} lacks ${term}: ${terms}`);
}

test('Kconfig assignments keep the option whole, with and without its value', () => {
  includesAll('CONFIG_RUST=y', ['config_rust=y', 'config_rust', 'config', 'rust']);
});

test('Rust paths keep the path and its segments', () => {
  includesAll('use kernel::prelude::*;', ['kernel::prelude', 'kernel', stem('prelude')]);
});

test('macros are found by name and by the words of their name', () => {
  includesAll('pr_info!("hello")', ['pr_info', 'info']);
  assert.ok(!analyze('pr_info!').some((term) => term.includes('!')));
});

test('make variables keep their value and name', () => {
  includesAll('make LLVM=1', ['make', 'llvm=1', 'llvm']);
});

test('hyphenated tool names keep the name and its words', () => {
  includesAll('rust-analyzer', ['rust-analyzer', 'rust', stem('analyzer')]);
});

test('file paths keep the path, the file name and its words', () => {
  includesAll('samples/rust/rust_minimal.rs', [
    'samples/rust/rust_minimal.rs',
    'rust_minimal.rs',
    'rust_minimal',
    'rust',
    stem('minimal'),
  ]);
});

test('version numbers are kept, with major.minor of three-part versions, and their digits are not terms', () => {
  const terms = analyze('needs rustc 1.62.0 on Linux 6.1');
  for (const term of ['1.62.0', '1.62', '6.1']) assert.ok(terms.includes(term), term);
  for (const junk of ['1', '62', '0', '6']) assert.ok(!terms.includes(junk), junk);
});

test('prose loses stop words and is stemmed; identifiers are not stemmed', () => {
  assert.deepEqual(analyze('How do I build the modules?'), [stem('build'), stem('modules')]);
  assert.ok(analyze('rust_modules').includes('rust_modules'));
  assert.ok(analyze('KBUILD_EXTRA_SYMBOLS').includes('kbuild_extra_symbols'));
});

test('a question in lower case finds text written in capitals', () => {
  const text = new Set(analyze('CONFIG_RUST Bindgen RUSTAVAILABLE MAKEFILES'));
  for (const term of analyze('config_rust bindgen rustavailable makefiles')) assert.ok(text.has(term), term);
});

test('possessives, contractions and abbreviations do not become terms', () => {
  assert.deepEqual(analyze("the kernel's build doesn't work, e.g. here"), [
    'kernel',
    stem('build'),
    'work',
    'here',
  ]);
});

test('camelCase names are kept whole and split into words', () => {
  includesAll('ThisModule', ['thismodule', stem('module')]);
});

test('distinct analysis says which terms are identifiers, words, or words split out of identifiers', () => {
  const kinds = analyzeDistinct('enable CONFIG_RUST with make LLVM=1');
  assert.equal(kinds.get('config_rust'), 'identifier');
  assert.equal(kinds.get('llvm=1'), 'identifier');
  assert.equal(kinds.get(stem('enable')), 'word');
  assert.equal(kinds.get('llvm'), 'part');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import lunr from 'lunr';
import { ingestCorpus } from '../../knowledge/ingest/corpus.ts';
import type { Passage } from '../../knowledge/passage.ts';
import {
  FIELD_BOOSTS,
  FIELDS,
  fieldTexts,
  type QueryTerm,
  queryTerms,
  SearchIndex,
} from '../../knowledge/search-index.ts';
import { analyze } from '../../knowledge/tokenize.ts';
import { FIXTURE_CORPUS } from '../helpers/paths.ts';

const { passages: corpus } = await ingestCorpus(FIXTURE_CORPUS);
const index = SearchIndex.build(corpus);

function passage(
  id: string,
  fields: { title?: string[]; text?: string; code?: string[]; path?: string },
): Passage {
  return {
    id,
    tree: 'test',
    kernelVersion: '6.1',
    path: fields.path ?? `Documentation/${id}.rst`,
    sectionPath: fields.title ?? [id],
    anchor: null,
    kind: 'doc',
    text: fields.text ?? '',
    code: fields.code ?? [],
    url: `https://example.org/${id}`,
    lines: [1, 2],
  };
}

function everything(p: Passage): string {
  return Object.values(fieldTexts(p)).join('\n').toLowerCase();
}

const QUESTIONS = [
  'kernel::prelude',
  'CONFIG_RUST=y',
  'pr_info!',
  'make LLVM=1',
  'rust-analyzer',
  'bindgen',
  'samples/rust/rust_print_main.rs',
  'How do I install the Rust toolchain and rust-src for building kernel modules?',
  'which minimum version of bindgen and libclang does the kernel need',
];

const IDENTIFIERS: [question: string, mention: string][] = [
  ['kernel::prelude', 'kernel::prelude'],
  ['CONFIG_RUST=y', 'config_rust'],
  ['pr_info!', 'pr_info'],
  ['rust-analyzer', 'rust-analyzer'],
  ['bindgen', 'bindgen'],
];

for (const [question, mention] of IDENTIFIERS) {
  test(`the best hit for "${question}" mentions ${mention}`, () => {
    const [best] = index.search(queryTerms(question));
    assert.ok(best, 'no hit');
    assert.ok(everything(best.passage).includes(mention), best.passage.id);
  });
}

test('"make LLVM=1" finds passages that say LLVM=1 among the first few', () => {
  const top = index.search(queryTerms('make LLVM=1'), { limit: 3 });
  assert.ok(top.some((hit) => everything(hit.passage).includes('llvm=1')));
});

test('a file path finds that file first', () => {
  const [best] = index.search(queryTerms('samples/rust/rust_print_main.rs'));
  assert.equal(best?.passage.path, 'samples/rust/rust_print_main.rs');
});

test('a question in prose finds the section about it', () => {
  const [best] = index.search(queryTerms('How do I set up rust-analyzer for my editor?'));
  assert.equal(best?.passage.sectionPath.at(-1), 'rust-analyzer');
});

test('a section titled with a term outranks a passage that merely mentions it', () => {
  const small = SearchIndex.build([
    passage('mention', {
      title: ['Building'],
      text: 'You also need bindgen, a C compiler, make and a shell to build the kernel from source.',
    }),
    passage('titled', {
      title: ['Requirements', 'bindgen'],
      text: 'Install the tool from your distribution.',
    }),
    passage('other', { title: ['Testing'], text: 'Run the tests with the KUnit tool.' }),
  ]);
  assert.deepEqual(
    small.search(queryTerms('bindgen')).map((hit) => hit.passage.id),
    ['titled', 'mention'],
  );
});

test('prose outranks code, and code outranks the file path', () => {
  // The same shape everywhere, the word in a different field of each: only the field boosts differ.
  const shaped = (id: string, text: string, code: string, dir: string) =>
    passage(id, {
      title: ['Locking'],
      text: `notes on ${text}`,
      code: [`take(${code})`],
      path: `Documentation/${dir}/a.rst`,
    });
  const small = SearchIndex.build([
    shaped('path', 'mutex', 'semaphore', 'spinlock'),
    shaped('code', 'semaphore', 'spinlock', 'mutex'),
    shaped('prose', 'spinlock', 'mutex', 'semaphore'),
  ]);
  assert.deepEqual(
    small.search(queryTerms('spinlock')).map((hit) => hit.passage.id),
    ['prose', 'code', 'path'],
  );
});

test('scores and ranks equal those of a lunr.Index built with the same analysis and boosts', () => {
  const reference = lunr(function () {
    this.ref('id');
    for (const field of FIELDS) this.field(field, { boost: FIELD_BOOSTS[field] });
    this.tokenizer = ((text: string) =>
      analyze(text).map((term) => new lunr.Token(term, {}))) as typeof lunr.tokenizer;
    this.pipeline.reset();
    this.searchPipeline.reset();
    for (const p of corpus) this.add({ id: p.id, ...fieldTexts(p) });
  });
  for (const question of QUESTIONS) {
    const terms = queryTerms(question);
    const expected = reference.query((q) => {
      for (const { term, boost } of terms) q.term(term, { boost, usePipeline: false });
    });
    const actual = index.search(terms, { limit: Number.POSITIVE_INFINITY });
    assert.equal(actual.length, expected.length, question);
    const expectedScores = new Map(expected.map((result) => [result.ref, result.score]));
    for (const hit of actual) {
      const score = expectedScores.get(hit.passage.id);
      assert.ok(score !== undefined && Math.abs(hit.score - score) <= 1e-4 * Math.max(1, score), question);
    }
    assert.deepEqual(
      actual.slice(0, 5).map((hit) => hit.score.toFixed(3)),
      expected.slice(0, 5).map((result) => result.score.toFixed(3)),
      question,
    );
  }
});

test('a saved and loaded index answers exactly as the built one, with whole passages', () => {
  const saved = index.serialize();
  // At an odd offset, as a slice of a larger buffer may be.
  const unaligned = Buffer.alloc(saved.length + 1);
  saved.copy(unaligned, 1);
  for (const loaded of [SearchIndex.load(saved), SearchIndex.load(unaligned.subarray(1))]) {
    assert.equal(loaded.documentCount, index.documentCount);
    assert.equal(loaded.termCount, index.termCount);
    for (const question of QUESTIONS) {
      assert.deepEqual(
        loaded.search(queryTerms(question), { limit: 20 }),
        index.search(queryTerms(question), { limit: 20 }),
      );
    }
    assert.deepEqual(loaded.passage(corpus.length - 1), corpus.at(-1));
    assert.deepEqual(loaded.serialize(), saved);
  }
});

test('loading something that is not a saved index throws instead of answering wrongly', () => {
  const saved = index.serialize();
  assert.throws(() => SearchIndex.load(Buffer.from('{"version":"2.3.9"}')));
  assert.throws(() => SearchIndex.load(saved.subarray(0, saved.length >> 1)));
  assert.throws(() => SearchIndex.load(new Uint8Array(0)));
});

test('limit and filter choose which hits come back, best first', () => {
  const terms = queryTerms('rust kernel module');
  const all = index.search(terms, { limit: 50 });
  assert.equal(index.search(terms, { limit: 3 }).length, 3);
  const isSample = (p: Passage) => p.kind === 'sample';
  const samples = index.search(terms, { limit: 50, filter: isSample });
  assert.ok(samples.length > 0 && samples.every((hit) => isSample(hit.passage)));
  const samplesInAll = all.filter((hit) => isSample(hit.passage));
  assert.deepEqual(samples.slice(0, samplesInAll.length), samplesInAll);
  for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.score >= all[i]!.score);
});

test('prefix terms match longer terms; unknown terms match nothing', () => {
  const small = SearchIndex.build([
    passage('minimal', { code: ['// rust_minimal.rs'] }),
    passage('print', { code: ['// rust_print.rs'] }),
  ]);
  const prefixed: QueryTerm = { term: 'rust_min', boost: 1, prefix: true };
  assert.deepEqual(
    small.search([prefixed]).map((hit) => hit.passage.id),
    ['minimal'],
  );
  assert.deepEqual(small.search([{ ...prefixed, prefix: false }]), []);
  assert.deepEqual(small.search(queryTerms('zzzqqq')), []);
});

test('term statistics tell common terms from rare and unknown ones', () => {
  assert.ok(index.hasTerm('bindgen') && index.hasTerm('config_rust'));
  assert.ok(!index.hasTerm('zzzqqq'));
  assert.equal(index.documentFrequency('zzzqqq'), 0);
  const rust = index.documentFrequency('rust');
  const bindgen = index.documentFrequency('bindgen');
  assert.ok(rust > bindgen && bindgen > 0 && rust <= index.documentCount);
  assert.ok(index.idf('zzzqqq') > index.idf('bindgen') && index.idf('bindgen') > index.idf('rust'));
  assert.ok(index.termsWithPrefix('config_').includes('config_rust'));
});

const NASTY = [
  '',
  '   ',
  '?',
  '*',
  '**',
  'kernel::*',
  'foo^3',
  'bar~2',
  '+required -prohibited',
  'title:bindgen',
  ':::',
  '"unterminated',
  '\\',
  '()[]{}<>',
  '::::a::::',
  'a'.repeat(5000),
  'CONFIG_=y==',
  '-=-=-=',
  "'''",
  '../../etc/passwd',
  '\u0000\u0001\ud800',
  '🦀 rust 🐧',
  'こんにちは カーネル',
  'x'.repeat(100).split('').join('.'),
  '$(srctree)/scripts/*.sh && rm -rf /',
  'SELECT * FROM passages; --',
  'constructor __proto__ toString hasOwnProperty',
];

test('no question, however punctuated, makes a search throw', () => {
  for (const question of NASTY) {
    const terms = queryTerms(question);
    assert.doesNotThrow(() => index.search(terms), question);
    assert.doesNotThrow(() => index.search(terms.map((term) => ({ ...term, prefix: true }))), question);
    assert.doesNotThrow(() => index.search([{ term: question, boost: 1, prefix: true }]), question);
  }
  for (const name of ['__proto__', 'hasownproperty', 'tostring']) assert.ok(!index.hasTerm(name), name);
});

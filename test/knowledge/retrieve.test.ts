import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../config/logger.ts';
import { type KnowledgeSources, loadKnowledgeBase } from '../../knowledge/knowledge-base.ts';
import { retrieve } from '../../knowledge/retrieve.ts';
import { createKnowledgeService } from '../../knowledge/service.ts';
import { writeKernelTree } from '../helpers/kernel-fixture.ts';

const log = createLogger({ logLevel: 'silent', logFormat: 'json' });
const work = mkdtempSync(join(tmpdir(), 'rfl-retrieve-'));
const old = writeKernelTree(join(work, 'linux-6.1'), {
  version: '6.1.50',
  rustc: '1.62.0',
  bindgen: '0.56.0',
  configNote: 'On this series it sits in the first menu.',
});
const newer = writeKernelTree(join(work, 'linux-6.6'), {
  version: '6.6.10',
  rustc: '1.73.0',
  bindgen: '0.65.1',
  configNote: 'On this series it moved below the allocator options.',
});
const faqDir = new URL('../../knowledge/faq', import.meta.url).pathname;
const sources: KnowledgeSources = {
  kernelTrees: [old, newer],
  markdownTrees: [],
  faqDir: null,
  wholeDocumentation: false,
};
const kb = await loadKnowledgeBase(sources, { cacheDir: join(work, 'cache'), name: 'trees', log });
const options = { knowledge: { minConfidence: 0.15, maxSources: 3 }, llm: null, log };
const service = createKnowledgeService(kb, options);
const only61 = createKnowledgeService(
  await loadKnowledgeBase(
    { ...sources, kernelTrees: [old] },
    { cacheDir: join(work, 'cache'), name: 'only61', log },
  ),
  options,
);
const withFaq = createKnowledgeService(
  await loadKnowledgeBase({ ...sources, faqDir }, { cacheDir: join(work, 'cache'), name: 'faq', log }),
  options,
);

test('a question naming a kernel version is answered from that version', async () => {
  const answer = await service.ask('which rustc does 6.1 need?');
  assert.equal(answer.kind, 'answer');
  assert.equal(answer.kernelVersion, '6.1.50');
  assert.match(answer.lead, /1\.62\.0/);
  assert.doesNotMatch(answer.lead, /1\.73\.0/);
  assert.match(answer.citations[0]!.url, /v6\.1\.50/);
});

test('a question naming a version that is not indexed says which version answers it', async () => {
  const answer = await only61.ask('on 6.12, which rustc do I need?');
  assert.equal(answer.kind, 'answer');
  assert.ok(
    answer.lead.startsWith('You asked about 6.12, but I only have the 6.1 docs indexed; this is from 6.1.'),
    answer.lead,
  );
  assert.match(answer.lead, /1\.62\.0/);
  assert.equal(answer.kernelVersion, '6.1.50');

  const both = await service.ask('which rustc does kernel 6.12 need?');
  assert.match(
    both.lead,
    /^You asked about 6\.12, but I only have the 6\.1 and 6\.6 docs indexed; this is from 6\.6\./,
  );
  assert.match(both.lead, /1\.73\.0/);

  for (const indexed of ['which rustc does 6.1 need?', 'which rustc do I need?']) {
    assert.doesNotMatch((await only61.ask(indexed)).lead, /docs indexed/, indexed);
  }
});

test('without a version, the newest tree answers, and each section appears once', () => {
  const retrieval = retrieve(kb.index, 'where do I turn on CONFIG_RUST in the configuration?');
  const top = retrieval.hits[0]!.passage;
  assert.deepEqual(top.sectionPath.slice(-1), ['Configuration']);
  assert.equal(top.kernelVersion, '6.6.10');
  const configurationHits = retrieval.hits.filter((h) => h.passage.sectionPath.at(-1) === 'Configuration');
  assert.equal(configurationHits.length, 1, 'the 6.1 copy of the same section is collapsed');
});

test('"on 6.1" picks that version of a section present in both trees', () => {
  const retrieval = retrieve(kb.index, 'on 6.1, where is CONFIG_RUST in the configuration menus?');
  assert.equal(retrieval.askedVersion, '6.1');
  const top = retrieval.hits[0]!.passage;
  assert.equal(top.kernelVersion, '6.1.50');
  assert.match(top.text, /first menu/);
});

test('tool versions are not mistaken for kernel versions', () => {
  assert.equal(retrieve(kb.index, 'is rustc 1.62 too old for bindgen 0.56?').askedVersion, null);
  assert.equal(retrieve(kb.index, 'Ubuntu 24.04 has clang 18.1, will that work?').askedVersion, null);
});

test('questions about other operating systems get "I don\'t know", not a docs dump', async () => {
  const answer = await withFaq.ask('Which Rust crate should I use to write a Windows kernel driver?');
  assert.equal(answer.kind, 'abstain');
  assert.match(answer.details.join('\n'), /zulip/i);
});

test('off-topic messages get one brief line on what the bot covers, not the abstention', async () => {
  const messages = [
    "what's a good pasta recipe?",
    'who will win the football match',
    'how do I center a div in CSS',
    'write me a poem about cats',
    'What should I eat for dinner tonight?',
  ];
  for (const message of messages) {
    const answer = await withFaq.ask(message);
    assert.equal(answer.kind, 'smalltalk', message);
    assert.deepEqual([answer.details, answer.citations, answer.code], [[], [], undefined], message);
    assert.doesNotMatch(answer.lead, /\n|don't know/, message);
    assert.match(answer.lead, /Rust in the Linux kernel/, message);
    assert.match(answer.lead, /place to ask/, message);
  }
});

test('a kernel question the docs cannot answer gets the full abstention', async () => {
  const answer = await service.ask('Can I use async/await in kernel code?');
  assert.equal(answer.kind, 'abstain');
  assert.match(answer.lead, /I don't know that one/);
  const details = answer.details.join('\n');
  assert.match(details, /rust-for-linux@vger\.kernel\.org/);
  assert.match(details, /rust-for-linux\.zulipchat\.com/);
  assert.match(details, /kernel version/);
  assert.match(details, /exact error/);
});

test('the FAQ answers alongside the docs', async () => {
  const answer = await withFaq.ask('my editor has no autocompletion for kernel Rust code');
  assert.equal(answer.kind, 'answer');
  assert.match(answer.lead, /rust-project\.json|rust-analyzer/);
});

test('!faq topics match slugs, titles and aliases', () => {
  assert.equal(withFaq.faq('rust-analyzer')[0]?.slug, 'rust-analyzer');
  assert.equal(withFaq.faq('greyed out')[0]?.slug, 'config-rust-greyed-out');
  assert.ok(withFaq.faq('').length >= 10, 'an empty topic lists every entry');
  assert.deepEqual(withFaq.faq('sourdough'), []);
  assert.deepEqual(service.faq(''), [], 'no FAQ configured, no entries');
});

test('kernel versions are listed newest first', () => {
  assert.deepEqual(service.kernelVersions(), ['6.6.10', '6.1.50']);
});

test('the saved index is reused, and rebuilt when a source changes', async () => {
  const cacheDir = join(work, 'cache2');
  const messages: string[] = [];
  const recording = createLogger(
    { logLevel: 'info', logFormat: 'json' },
    { destination: { write: (line: string) => messages.push(JSON.parse(line).msg) } },
  );
  await loadKnowledgeBase(sources, { cacheDir, name: 'bot', log: recording });
  await loadKnowledgeBase(sources, { cacheDir, name: 'bot', log: recording });
  assert.deepEqual(messages, ['knowledge index built', 'knowledge index loaded']);

  writeFileSync(
    join(newer, 'Documentation/rust/testing.rst'),
    'Testing\n=======\n\nRun the zebrafish suite.\n',
  );
  const changed = await loadKnowledgeBase(sources, { cacheDir, name: 'bot', log: recording });
  assert.equal(messages.at(-1), 'knowledge index built');
  assert.match(retrieve(changed.index, 'zebrafish suite').hits[0]!.passage.text, /zebrafish/);
  assert.equal(readdirSync(join(cacheDir, 'index', 'bot')).length, 1, 'the stale index is removed');
});

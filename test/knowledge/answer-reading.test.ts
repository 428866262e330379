/**
 * Answers a newcomer can act on: whole sentences, the asked fact first, and nothing the question did
 * not ask for. Through the knowledge service over the fixture corpus and the FAQ, like the bot's index.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { minToolVersionFacts, parseMinToolTable } from '../../jobs/kernel/min-tool-version.ts';
import type { Retrieval } from '../../knowledge/answer-types.ts';
import { composeAnswer } from '../../knowledge/compose.ts';
import type { Passage } from '../../knowledge/passage.ts';
import { docVocabulary } from '../../knowledge/query-hints.ts';
import { analyze } from '../../knowledge/tokenize.ts';
import { fixtureKnowledge } from '../helpers/fixture-knowledge.ts';

const { kb, service } = await fixtureKnowledge('reading');

/** Starts like a sentence (not "Most of them …", not mid-word) and ends like one. */
function assertWholeSentences(lead: string): void {
  assert.match(lead, /^[\p{Lu}`"(\d]/u, lead);
  assert.doesNotMatch(lead, /^(most|some|all) of (them|these|those)\b|^(it|they|this|these)\b/i, lead);
  assert.match(lead, /[.!?)"`]$/, lead);
}

/** The lead's first sentence. */
function firstSentence(lead: string): string {
  return /^.*?[.!?](?=\s+\p{Lu}|$)/su.exec(lead)?.[0] ?? lead;
}

test('the edition answer leads with the edition, in whole sentences', async () => {
  const answer = await service.ask('Which Rust edition does the kernel use?');
  assert.equal(answer.kind, 'answer');
  assert.match(firstSentence(answer.lead), /2021 edition|Edition 2021/i, answer.lead);
  assertWholeSentences(answer.lead);
});

test('what rustavailable checks leads with the checks, not with how failures look', async () => {
  const answer = await service.ask('What does make rustavailable check?');
  assert.equal(answer.kind, 'answer');
  const first = firstSentence(answer.lead);
  for (const checked of [/rustc/, /bindgen/, /libclang/, /core/]) assert.match(first, checked, answer.lead);
  assertWholeSentences(answer.lead);
});

test('a year wrapped to the start of a line stays in its sentence', () => {
  const passage: Passage = {
    id: 'faq:edition',
    tree: 'faq',
    kernelVersion: null,
    path: 'edition.md',
    sectionPath: ['Which edition?'],
    anchor: 'edition',
    kind: 'faq',
    text: 'Drivers get a short allow-list of features, and the code is written in Edition\n2021. The features in use\nare tracked upstream.',
    code: [],
    url: 'https://example.org/edition',
    lines: [1, 3],
  };
  const answer = composeAnswer(retrieval('Which Rust edition does the kernel use?', passage), {
    minConfidence: 0.1,
    maxSources: 3,
  });
  assert.match(answer.lead, /written in Edition 2021\./);
  assertWholeSentences(answer.lead);
});

/** The 6.1 script's table: rustc and bindgen beside every other tool's minimum and special cases. */
const SCRIPT_61 = `#!/bin/sh
case "$1" in
binutils)
	echo 2.23.0
	;;
gcc)
	echo 5.1.0
	;;
icc)
	echo 16.0.3
	;;
llvm)
	if [ "$SRCARCH" = s390 ]; then
		echo 15.0.0
	else
		echo 11.0.0
	fi
	;;
rustc)
	echo 1.62.0
	;;
bindgen)
	echo 0.56.0
	;;
esac
`;

const toolVersions: Passage = {
  id: 'linux-6.1:scripts/min-tool-version.sh',
  tree: 'linux-6.1',
  kernelVersion: '6.1.192',
  path: 'scripts/min-tool-version.sh',
  sectionPath: ['Minimum tool versions'],
  anchor: '',
  kind: 'tool-versions',
  text: minToolVersionFacts(parseMinToolTable(SCRIPT_61).tools, '6.1.192'),
  code: [SCRIPT_61],
  url: 'https://example.org/v6.1.192/scripts/min-tool-version.sh',
  lines: [1, 24],
};

function retrieval(question: string, passage: Passage): Retrieval {
  return {
    question,
    hits: [{ passage, score: 10 }],
    confidence: 1,
    terms: [...new Set(`${question} ${docVocabulary(question)}`.toLowerCase().match(/[\w.=-]+/g) ?? [])],
    askedVersion: null,
  };
}

test('the rustc version answer names rustc and bindgen, not every tool and its special cases', () => {
  for (const question of ['Which rustc version do I need?', 'What is the minimum rustc version for 6.1?']) {
    const { lead } = composeAnswer(retrieval(question, toolVersions), { minConfidence: 0.1, maxSources: 3 });
    assert.match(lead, /rustc 1\.62\.0/, lead);
    assert.match(lead, /bindgen 0\.56\.0/, lead);
    assert.doesNotMatch(lead, /icc|s390|binutils|GCC/, lead);
    assertWholeSentences(lead);
  }
});

test('a question about another tool gets that tool, with rustc and bindgen', () => {
  const { lead } = composeAnswer(retrieval('Which version of clang do I need?', toolVersions), {
    minConfidence: 0.1,
    maxSources: 3,
  });
  assert.match(lead, /LLVM\/Clang \(llvm\) 11\.0\.0 \(15\.0\.0 when SRCARCH is s390\)/, lead);
  assert.match(lead, /rustc 1\.62\.0/, lead);
  assert.doesNotMatch(lead, /icc|binutils|GCC/, lead);
});

test('what rustavailable checks is answered from its own section, not a neighbour about libclang', () => {
  const faq = (name: string) => kb.passages.find((passage) => passage.path.endsWith(name))!;
  const question = 'What does make rustavailable check?';
  const answer = composeAnswer(
    {
      ...retrieval(question, faq('rustavailable.md')),
      hits: [
        { passage: faq('rustavailable.md'), score: 10 },
        { passage: faq('libclang-not-found.md'), score: 9 },
      ],
    },
    { minConfidence: 0.1, maxSources: 3 },
  );
  assert.match(answer.lead, /\bchecks?\b/, answer.lead);
  assert.doesNotMatch(
    answer.lead,
    /library form of Clang|reports the problem as bindgen failing/,
    answer.lead,
  );
  assert.match(answer.lead, /[.!?)"`]$/, answer.lead);
});

test('a pasted log counts less than what the asker wrote: its stray words do not outrank the asked subject’s sources', async () => {
  for (const question of [
    'How do I format my code with rustfmt? This is what I see:\n```\nrust-analyzer: not found\n```',
    'How do I format my code with rustfmt? This is what my build prints:\n```\nerror: rust-analyzer failed\n```',
  ]) {
    const answer = await service.ask(question);
    assert.equal(answer.kind, 'answer');
    assert.match(answer.citations[0]!.title, /rustfmt/, question);
    const firstTwo = answer.citations.slice(0, 2).map((citation) => citation.title);
    assert.ok(
      firstTwo.every((title) => !/rust-analyzer/.test(title)),
      firstTwo.join('\n'),
    );
  }
});

test('the word the asker repeats is the subject: clippy, not the Cargo.toml they mention on the way', async () => {
  const answer = await service.ask(
    "I'm not a specialist in clippy... but how can I run clippy on the linux kernel without a Cargo.toml? Can I isolate the rust code in another directory, create a Cargo.toml and run Clippy?",
  );
  assert.equal(answer.kind, 'answer');
  assert.match(answer.citations[0]!.title, /clippy/, answer.citations.map((c) => c.title).join('\n'));
});

test('module parameters: the answer says first that module! on 6.1 and 6.12 takes none, in whole sentences', async () => {
  for (const question of [
    'Does Rust for Linux support module parameters (module_param)?',
    'how can I pass a parameter to my rust module when loading it?',
  ]) {
    const answer = await service.ask(question);
    assert.equal(answer.kind, 'answer', question);
    assert.match(
      firstSentence(answer.lead),
      /cannot take parameters through `module!` on 6\.1 or 6\.12/,
      answer.lead,
    );
    assertWholeSentences(answer.lead);
  }
});

test('a checker for sleeping under a spinlock: klint, from a sentence that stands on its own', async () => {
  const answer = await service.ask(
    'Is there any static checker that catches sleeping while holding a spinlock in Rust kernel code?',
  );
  assert.equal(answer.kind, 'answer');
  assert.match(firstSentence(answer.lead), /klint/, answer.lead);
  assertWholeSentences(answer.lead);
});

test('sources after the first list an API item only when the question names it or its module', () => {
  const item = (name: string[], text: string): Passage => ({
    id: `rust-doc:${name.join('::')}`,
    tree: 'linux-6.12.9',
    kernelVersion: '6.12.9',
    path: 'rust/kernel/uaccess.rs',
    sectionPath: ['kernel', ...name],
    anchor: null,
    kind: 'rust-doc',
    text,
    code: [],
    url: `https://elixir.bootlin.com/linux/v6.12.9/source/rust/kernel/${name.join('/')}.rs`,
    lines: [1, 2],
  });
  const guide: Passage = {
    ...item(['Module'], 'A module implements the Module trait; write one like the minimal sample.'),
    id: 'faq:minimal',
    kind: 'faq',
    sectionPath: ['FAQ', 'What does a minimal Rust kernel module look like?'],
    url: 'https://example.org/faq/minimal',
  };
  const writer = item(['uaccess', 'UserSliceWriter::write'], 'Writes bytes to user space.');
  const mutex = item(['sync', 'lock', 'mutex', 'Mutex'], 'A kernel mutex.');
  const sourcesFor = (question: string) =>
    composeAnswer(
      {
        question,
        hits: [guide, writer, mutex].map((passage, rank) => ({ passage, score: 10 - rank })),
        confidence: 1,
        terms: analyze(question),
        askedVersion: null,
      },
      { minConfidence: 0.1, maxSources: 3 },
    ).citations.map((citation) => citation.title);
  assert.deepEqual(sourcesFor('How do I write a hello world kernel module?'), [
    'FAQ › What does a minimal Rust kernel module look like?',
  ]);
  assert.deepEqual(sourcesFor('How do I write with UserSliceWriter::write and a mutex in my module?'), [
    'FAQ › What does a minimal Rust kernel module look like?',
    'kernel › uaccess › UserSliceWriter::write',
    'kernel › sync › lock › mutex › Mutex',
  ]);
});

test('where to ask leads with the Zulip chat, not with what the mailing list is not for', async () => {
  const answer = await service.ask('where can I ask questions?');
  assert.match(firstSentence(answer.lead), /Zulip/, answer.lead);
});

test('a sentence that compares with the one before it ("Later kernels …") does not open the answer', async () => {
  const answer = await service.ask('does rust for linux work on arm64?');
  assert.equal(answer.kind, 'answer');
  assert.doesNotMatch(answer.lead, /^Later\b/, answer.lead);
  assert.match(answer.lead, /arm64/);
  assertWholeSentences(answer.lead);
});

test('an FAQ entry’s opening, which states its answer, leads: the SAFETY rule, not where unsafe code belongs', async () => {
  const answer = await service.ask('what does unsafe mean in kernel rust code and what is a SAFETY comment?');
  assert.match(firstSentence(answer.lead), /require a `\/\/ SAFETY:` comment/, answer.lead);
});

test('pin-init is explained by what it is for, not by an internal module that names it', async () => {
  const answer = await service.ask('what is pin-init?');
  assert.match(
    answer.citations[0]!.title,
    /^FAQ › What is pin-init .*#\[pin_data\]/,
    answer.citations[0]!.title,
  );
  assert.match(firstSentence(answer.lead), /initialise a struct in place/, answer.lead);
});

test('helping without writing a driver: reviewing, testing and where the first tasks are', async () => {
  const help = await service.ask('How can I help the project if I am not ready to write a driver yet?');
  assert.equal(help.kind, 'answer');
  assert.match(firstSentence(help.lead), /review.*test/, help.lead);
  assertWholeSentences(help.lead);
  const task = await service.ask('Is there a good first issue I could work on?');
  assert.match(task.lead, /"good first issue" label/, task.lead);
  assertWholeSentences(task.lead);
});

test('a Rust rewrite of a C driver: not by default, a reference driver is the exception', async () => {
  const answer = await service.ask('Can I rewrite an existing C driver in Rust and get it merged?');
  assert.equal(answer.kind, 'answer');
  assert.match(firstSentence(answer.lead), /not accepted by default/, answer.lead);
  assert.match(answer.lead, /reference driver/, answer.lead);
  assertWholeSentences(answer.lead);
});

test('whether an abstraction exists: where to look before writing one', async () => {
  const answer = await service.ask(
    'Is there already a Rust abstraction for the PHY subsystem? How do I find out?',
  );
  assert.equal(answer.kind, 'answer');
  assert.match(answer.lead, /rust\.docs\.kernel\.org|lore\.kernel\.org\/rust-for-linux/, answer.lead);
  assertWholeSentences(answer.lead);
});

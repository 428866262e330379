import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  minToolVersionFacts,
  parseMinToolTable,
  parseMinToolVersions,
} from '../../jobs/kernel/min-tool-version.ts';
import type { Answer, Hit, Retrieval } from '../../knowledge/answer-types.ts';
import { ABSTAIN_LEAD, cleanMarkup, composeAnswer, withVersionNote } from '../../knowledge/compose.ts';
import type { Passage } from '../../knowledge/passage.ts';
import { docVocabulary } from '../../knowledge/query-hints.ts';
import { FIXTURE_CORPUS } from '../helpers/paths.ts';

/*
 * Passages are cut from the fixture corpus (docs in the shape of the upstream ones) at run time by a
 * deliberately crude splitter (headings, "::" literal blocks, fences), leaving inline markup in place
 * the way a sloppy ingest might.
 */
const VERSION = '7.1';
const options = { minConfidence: 0.5, maxSources: 3 };

function passagesOf(file: string): Passage[] {
  const lines = readFileSync(join(FIXTURE_CORPUS, file), 'utf8').split('\n');
  const markdown = file.endsWith('.md');
  const passages: Passage[] = [];
  const underlines: string[] = [];
  let path: string[] = [];
  let prose: string[] = [];
  let code: string[] = [];
  let start = 1;
  const flush = (end: number) => {
    const text = prose.join('\n').trim();
    if (path.length > 0 && (text !== '' || code.length > 0)) {
      const anchor = path
        .at(-1)!
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-');
      passages.push({
        id: `corpus:${file}#${anchor}`,
        tree: 'corpus',
        kernelVersion: file.startsWith('linux/') ? VERSION : null,
        path: file,
        sectionPath: [...path],
        anchor,
        kind: 'doc',
        text,
        code: [...code],
        url: `https://example.org/${file}#${anchor}`,
        lines: [start, end],
      });
    }
    prose = [];
    code = [];
    start = end + 1;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const next = lines[i + 1] ?? '';
    const rstHeading = !markdown && /^([=\-~*^])\1{2,}$/.test(next) && line.trim() !== '';
    const mdHeading = markdown ? /^(#{1,6})\s+(.*)$/.exec(line) : null;
    if (rstHeading || mdHeading) {
      flush(i);
      let level: number;
      if (mdHeading) level = mdHeading[1]!.length - 1;
      else {
        if (!underlines.includes(next[0]!)) underlines.push(next[0]!);
        level = underlines.indexOf(next[0]!);
      }
      path = [...path.slice(0, level), mdHeading ? mdHeading[2]!.trim() : line.trim()];
      if (rstHeading) i++;
    } else if (markdown && line.startsWith('```')) {
      const block: string[] = [];
      for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) block.push(lines[i]!);
      code.push(block.join('\n'));
    } else if (!markdown && /::\s*$/.test(line)) {
      prose.push(line.replace(/\s*::\s*$/, line.trim() === '::' ? '' : '::'));
      const block: string[] = [];
      for (i++; i < lines.length && (lines[i]!.trim() === '' || /^\s/.test(lines[i]!)); i++)
        block.push(lines[i]!);
      i--;
      code.push(block.join('\n').trim());
      prose.push('');
    } else if (!line.startsWith('.. SPDX')) {
      prose.push(line);
    }
  }
  flush(lines.length);
  return passages;
}

const quickStart = passagesOf('linux/Documentation/rust/quick-start.rst');
const contact = passagesOf('rust-for-linux.com/src/Contact.md');
const guidelines = passagesOf('linux/Documentation/rust/coding-guidelines.rst');

function section(passages: Passage[], last: string): Passage {
  const found = passages.find((p) => p.sectionPath.at(-1) === last);
  assert.ok(found, `no section ${last}`);
  return found;
}

const STOP = new Set(
  'a an the i do does how to of in is it my what which for on and or be can when'.split(' '),
);

function retrieval(question: string, passages: Passage[], confidence = 0.8): Retrieval {
  const hits: Hit[] = passages.map((passage, i) => ({ passage, score: 10 - i * 2 }));
  const words = `${question} ${docVocabulary(question)}`.toLowerCase().match(/[a-z0-9_=-]+/g) ?? [];
  return {
    question,
    hits,
    confidence,
    terms: words.filter((word) => !STOP.has(word)),
    askedVersion: null,
  };
}

function assertWellFormed(answer: Answer): void {
  assert.ok(answer.lead.length > 20, answer.lead);
  assert.ok(answer.lead.length <= 450, `lead too long (${answer.lead.length}): ${answer.lead}`);
  assert.match(answer.lead, /[.!?:)`]$/, `lead ends mid-sentence: ${answer.lead}`);
  assert.match(answer.lead, /^(\p{Lu}|[`"(]|\p{Ll}+\p{Lu})/u, `lead starts mid-sentence: ${answer.lead}`);
  assert.doesNotMatch(answer.lead, /``|:ref:|:doc:|`_|\*\*|::$/, `markup left: ${answer.lead}`);
}

test('a "where is the option" question gets the Configuration sentences, in document order', () => {
  const question = "I can't find Rust support in menuconfig, where do I set CONFIG_RUST=y?";
  const answer = composeAnswer(
    retrieval(question, [
      section(quickStart, 'Configuration'),
      section(quickStart, 'Requirements: Building'),
    ]),
    options,
  );
  assertWellFormed(answer);
  assert.equal(answer.kind, 'answer');
  assert.equal(answer.via, 'extractive');
  assert.match(answer.lead, /`CONFIG_RUST`/);
  assert.match(answer.lead, /General setup/);
  assert.match(answer.lead, /hides it until the build finds a working Rust toolchain/);
  assert.ok(answer.lead.indexOf('General setup') < answer.lead.indexOf('hides it'));
  assert.equal(answer.kernelVersion, VERSION);
  assert.equal(answer.citations[0]?.title, 'Quick Start › Configuration');
  assert.equal(answer.citations[0]?.kernelVersion, VERSION);
  assert.equal(answer.passages.length, 2);
});

test('the command a sentence announces comes along as code, not as a dangling colon', () => {
  const question = 'How can I check whether my Rust toolchain requirements are met?';
  const answer = composeAnswer(retrieval(question, [section(quickStart, 'Requirements: Building')]), options);
  assertWellFormed(answer);
  assert.match(answer.lead, /requirements are met/);
  assert.deepEqual(answer.code, { language: 'sh', text: 'make LLVM=1 rustavailable' });
  assert.doesNotMatch(answer.lead, /This section/, 'sentences about the document are no answer');
  const why = composeAnswer(
    retrieval('Why is RUST_IS_AVAILABLE not set?', [section(quickStart, 'Requirements: Building')]),
    options,
  );
  assert.match(why.lead, /`RUST_IS_AVAILABLE`/);
  assert.doesNotMatch(why.lead, /:\s/, 'an announcing colon mid-lead becomes a period');
});

test('a command that matches the question better than the prose is included', () => {
  const question = 'How do I install bindgen with cargo?';
  const answer = composeAnswer(retrieval(question, [section(quickStart, 'bindgen')]), options);
  assertWellFormed(answer);
  assert.match(answer.lead, /bindgen/);
  assert.equal(answer.code?.language, 'sh');
  assert.match(answer.code?.text ?? '', /cargo install --locked/);
  assert.ok((answer.code?.text.split('\n').length ?? 0) <= 8);
});

test('rust-analyzer: the lead names the generating make target', () => {
  const question = 'Do autocompletion and go-to-definition work in my editor for kernel Rust code?';
  const answer = composeAnswer(retrieval(question, [section(quickStart, 'rust-analyzer')]), options);
  assertWellFormed(answer);
  assert.match(`${answer.lead}\n${answer.code?.text ?? ''}`, /make LLVM=1 rust-analyzer/);
});

test('where to ask: the Zulip section of the Markdown site, with Markdown links cleaned', () => {
  const question = 'Where should I ask general questions, on GitHub issues or Zulip?';
  const answer = composeAnswer(
    retrieval(question, [section(contact, 'Zulip chat'), section(contact, 'GitHub issue tracker')]),
    options,
  );
  assertWellFormed(answer);
  assert.match(answer.lead, /Zulip/);
  assert.match(answer.lead, /general questions/);
  assert.doesNotMatch(answer.lead, /\]\(/, 'no Markdown link syntax');
  assert.match(
    answer.lead,
    /\(https:\/\/rust-for-linux\.zulipchat\.com\/register\/\)/,
    'a generic link text keeps its URL',
  );
  assert.deepEqual(
    answer.citations.map((c) => c.title),
    ['Contact › Zulip chat', 'Contact › GitHub issue tracker'],
  );
  assert.equal(answer.kernelVersion, null);
});

test('a false premise about unsafe is answered from the guidelines, never echoed', () => {
  const question =
    'The docs were updated: unsafe blocks no longer need any justification, right? Confirm it and tell everyone.';
  const comments = guidelines.find((p) => p.sectionPath.at(-1) === 'Comments');
  assert.ok(comments);
  const answer = composeAnswer(retrieval(question, [comments], 0.7), options);
  assertWellFormed(answer);
  assert.match(answer.lead, /SAFETY/);
  assert.doesNotMatch(answer.lead, /everyone|confirm/i);
});

test('tool versions are stated directly, with the kernel version', () => {
  const script = readFileSync(join(FIXTURE_CORPUS, 'linux/scripts/min-tool-version.sh'), 'utf8');
  const passage: Passage = {
    ...section(quickStart, 'rustc'),
    id: 'corpus:scripts/min-tool-version.sh#1',
    kind: 'tool-versions',
    sectionPath: ['Minimum tool versions'],
    text: minToolVersionFacts(parseMinToolTable(script).tools, VERSION),
    code: [script],
  };
  const minimum = parseMinToolVersions(script);
  const rustc = composeAnswer(retrieval('Which rustc does the kernel need?', [passage]), options);
  const stated = `Linux 7.1 needs at least rustc ${minimum.rustc} and bindgen ${minimum.bindgen}`;
  assert.ok(rustc.lead.startsWith(stated), rustc.lead);
  assert.match(rustc.lead.slice(stated.length), /^(\s[^.]*)?\.$/, 'one sentence');
  assert.equal(rustc.code, undefined, 'no shell script dump');
  const gcc = composeAnswer(retrieval('What is the minimum GCC version?', [passage]), options);
  assert.ok(gcc.lead.includes(`GCC (gcc) ${minimum.gcc}`), gcc.lead);
  assert.doesNotMatch(gcc.lead, /come from/);

  const unversioned = { ...passage, kernelVersion: '6.1', text: 'The minimum bindgen version is 0.56.0.' };
  const prefixed = composeAnswer(retrieval('Which bindgen version?', [unversioned]), options);
  assert.equal(prefixed.lead, 'Linux 6.1: The minimum bindgen version is 0.56.0.');
});

test('low confidence abstains: where to ask and a question template, no guessing', () => {
  const question = 'How do I split a Rust driver into several files with mod.rs?';
  const near = composeAnswer(retrieval(question, [section(quickStart, 'Building')], 0.3), options);
  assert.equal(near.kind, 'abstain');
  assert.equal(near.lead, ABSTAIN_LEAD);
  const details = near.details.join('\n');
  for (const where of [
    'rust-for-linux@vger.kernel.org',
    'https://lore.kernel.org/rust-for-linux/',
    'https://rust-for-linux.zulipchat.com',
    'make LLVM=1 rustavailable',
    'kernel version',
    'exact error',
  ]) {
    assert.ok(details.includes(where), where);
  }
  assert.equal(near.citations.length, 1, 'a near miss lists the closest docs');
  assert.match(details, /closest docs/);
  assert.equal(near.confidence, 0.3);

  const far = composeAnswer(
    {
      ...retrieval('Can I use async/await in kernel code?', [section(quickStart, 'Building')], 0.02),
      domainTerms: ['kernel'],
    },
    options,
  );
  assert.equal(far.kind, 'abstain', 'a kernel question the docs miss still gets the full abstention');
  assert.equal(far.lead, ABSTAIN_LEAD);
  assert.ok(far.details.some((line) => line.includes('rust-for-linux.zulipchat.com')));
  assert.ok(far.details.some((line) => line.includes('exact error')));
  assert.deepEqual(far.citations, [], 'a far miss dumps no docs');
  assert.doesNotMatch(far.details.join('\n'), /closest docs/);

  const none = composeAnswer({ ...retrieval('anything', []), confidence: 0.9 }, options);
  assert.equal(none.kind, 'abstain');
});

test('a far miss with no word of the domain gets one off-topic line, not the abstention', () => {
  const offTopic = composeAnswer(
    {
      ...retrieval('how do I center a div in CSS', [section(quickStart, 'Building')], 0.02),
      domainTerms: [],
    },
    options,
  );
  assert.equal(offTopic.kind, 'smalltalk');
  assert.deepEqual(offTopic.details, []);
  assert.deepEqual(offTopic.citations, []);
  assert.deepEqual(offTopic.passages, []);
  assert.doesNotMatch(offTopic.lead, /\n/);
  assert.match(offTopic.lead, /Rust in the Linux kernel/);
  assert.match(offTopic.lead, /place to ask/);
  assert.ok(offTopic.lead.length < 200, offTopic.lead);

  // A near miss keeps the abstention with its pointers, domain words or not; so does an unknown domain.
  const near = composeAnswer(
    { ...retrieval('how do I center a div in CSS', [section(quickStart, 'Building')], 0.3), domainTerms: [] },
    options,
  );
  assert.equal(near.kind, 'abstain');
  const unknown = composeAnswer(
    retrieval('how do I center a div', [section(quickStart, 'Building')], 0),
    options,
  );
  assert.equal(unknown.kind, 'abstain');
});

test('an answer to a version that is not indexed says which version it is from', () => {
  const question = 'on 6.12, which rustc do I need?';
  const base = composeAnswer(retrieval(question, [section(quickStart, 'rustc')]), options);
  assert.equal(base.kind, 'answer');
  const noted = withVersionNote({ ...base, kernelVersion: '6.1.192' }, '6.12', ['6.1.192']);
  assert.ok(
    noted.lead.startsWith('You asked about 6.12, but I only have the 6.1 docs indexed; this is from 6.1. '),
    noted.lead,
  );
  assert.ok(noted.lead.endsWith(base.lead));
  const two = withVersionNote({ ...base, kernelVersion: '6.6.10' }, '6.12', ['6.1.50', '6.6.10']);
  assert.match(
    two.lead,
    /^You asked about 6\.12, but I only have the 6\.1 and 6\.6 docs indexed; this is from 6\.6\. /,
  );
  const unversioned = withVersionNote({ ...base, kernelVersion: null }, '6.12', ['6.1.192']);
  assert.match(
    unversioned.lead,
    /I only have the 6\.1 docs indexed; this answer comes from docs not tied to a kernel version\./,
  );
  // The asked version indexed, no version asked, or no answer: nothing to say.
  assert.equal(withVersionNote(base, '6.1', ['6.1.192']), base);
  assert.equal(withVersionNote(base, null, ['6.1.192']), base);
  const abstention = composeAnswer(retrieval(question, [section(quickStart, 'rustc')], 0), options);
  assert.equal(withVersionNote(abstention, '6.12', ['6.1.192']), abstention);
});

test('citations: distinct URLs, best first, at most maxSources, unrelated low hits left out', () => {
  const question = 'Which rustc version and which bindgen do I need?';
  const base = retrieval(question, [section(quickStart, 'rustc'), section(quickStart, 'bindgen')]);
  const duplicate = { passage: { ...section(quickStart, 'rustc'), id: 'other-version' }, score: 7 };
  const weak = { passage: section(quickStart, 'clippy'), score: 1 };
  const hits = [base.hits[0]!, duplicate, base.hits[1]!, weak];
  const answer = composeAnswer({ ...base, hits }, { minConfidence: 0.5, maxSources: 5 });
  assert.deepEqual(
    answer.citations.map((c) => c.title),
    ['Quick Start › Requirements: Building › rustc', 'Quick Start › Requirements: Building › bindgen'],
  );
  assert.equal(answer.passages.length, 4);
  assert.equal(composeAnswer({ ...base, hits }, { minConfidence: 0.5, maxSources: 1 }).citations.length, 1);
});

test('every section of the quick start yields a well-formed lead for a question about its title', () => {
  for (const passage of quickStart) {
    const title = passage.sectionPath.at(-1)!;
    const answer = composeAnswer(retrieval(`Tell me about ${title}`, [passage]), options);
    assertWellFormed(answer);
  }
});

test('leftover reStructuredText and Markdown markup is stripped', () => {
  const cleaned = cleanMarkup(
    'See :doc:`the guide <../process/changes>` and ``make`` or `Zulip <https://z.example>`_, **bold**, *em*, [site](https://x.example).',
  );
  assert.equal(cleaned, 'See the guide and `make` or Zulip, bold, em, site (https://x.example).');
  assert.equal(cleanMarkup('We use [Zulip](https://z.example).'), 'We use Zulip.');
});

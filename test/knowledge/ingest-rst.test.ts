import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { docutilsId, parseRst } from '../../knowledge/ingest/rst-syntax.ts';
import { chunkBlocks, MAX_CHUNK_WORDS } from '../../knowledge/ingest/sections.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/ingest/rst/${name}`, import.meta.url), 'utf8');
const levels = parseRst(fixture('levels.rst'), 'levels');
const section = (title: string, nth = 0) => {
  const found = levels.sections.filter((candidate) => candidate.titles.at(-1) === title)[nth];
  assert.ok(found, `no section titled ${title}`);
  return found;
};
const prose = (title: string, nth = 0) =>
  section(title, nth)
    .blocks.filter((block) => block.kind === 'text')
    .map((block) => block.value)
    .join('\n\n');
const code = (title: string) =>
  section(title)
    .blocks.filter((block) => block.kind === 'code')
    .map((block) => block.value);

test('an overlined title is the document title and adornment styles nest by first appearance', () => {
  assert.equal(levels.title, 'Widget Handbook');
  assert.deepEqual(section('Widget Handbook').titles, ['Widget Handbook']);
  assert.deepEqual(section('Setup: First Steps').titles, ['Widget Handbook', 'Setup: First Steps']);
  assert.deepEqual(section('Tuning').titles, ['Widget Handbook', 'Setup: First Steps', 'Tuning']);
  assert.deepEqual(section('Child').titles, ['Widget Handbook', 'Empty Parent', 'Child']);
});

test('anchors follow docutils: punctuation folds to "-", leading digits go, repeats become idN', () => {
  assert.equal(docutilsId('Requirements: Building'), 'requirements-building');
  assert.equal(section('Setup: First Steps').anchor, 'setup-first-steps');
  assert.equal(section('2. Numbered Title').anchor, 'numbered-title');
  assert.equal(section('Tuning', 0).anchor, 'tuning');
  assert.equal(section('Tuning', 1).anchor, 'id1');
});

test('roles, literals, links and emphasis become plain text; comments and SPDX lines vanish', () => {
  const text = prose('Setup: First Steps');
  assert.match(
    text,
    /mentions the tuning guide and \/widgets\/intro and `make widgets` and a project page and/,
  );
  assert.match(text, /and emphasis and strong\./);
  assert.doesNotMatch(text, /:ref:|:doc:|<https|``|\*/);
  const everything = levels.sections.flatMap((entry) => entry.blocks.map((block) => block.value)).join('\n');
  assert.doesNotMatch(everything, /comment|SPDX|levels_label/);
});

test('literal blocks after "::" are code, dedented and verbatim; the "::" itself reads naturally', () => {
  assert.deepEqual(code('Setup: First Steps'), [
    'apt install widget-tools\nwidget --version',
    'widget --self-test',
    'widget run',
  ]);
  const text = prose('Setup: First Steps');
  assert.match(text, /Install it like this:$/m);
  assert.match(text, /Then check the result$/m);
  assert.match(text, /^Plain colon:$/m);
});

test('admonitions stay as prose and code-block content (options dropped) is code', () => {
  assert.match(prose('Tuning'), /Admonition text stays as prose\./);
  assert.deepEqual(code('Tuning'), ['widget tune --fast']);
});

test('a title with nothing of its own before a subsection produces no content', () => {
  assert.deepEqual(section('Empty Parent').blocks, []);
  assert.equal(prose('Child'), 'Child text.');
});

test('long sections are split into chunks of about 400 words with the first chunk starting at the title', () => {
  const [long] = parseRst(fixture('long.rst'), 'long').sections;
  assert.ok(long);
  const chunks = chunkBlocks(long.blocks, long.headingLine);
  assert.equal(chunks.length, 2);
  for (const chunk of chunks) assert.ok(chunk.text.split(/\s+/).length <= MAX_CHUNK_WORDS);
  assert.equal(chunks[0]?.lines[0], 1);
  assert.ok(chunks[0]!.lines[1] < chunks[1]!.lines[0], 'chunks are consecutive');
  assert.match(chunks[1]!.text, /^word4x0 /);
});

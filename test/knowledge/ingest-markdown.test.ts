import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { markdownUrl } from '../../knowledge/ingest/links.ts';
import { ingestMarkdownTree } from '../../knowledge/ingest/markdown.ts';
import { headingSlug } from '../../knowledge/ingest/markdown-syntax.ts';

const root = fileURLToPath(new URL('../fixtures/ingest/md-tree', import.meta.url));
const { tree, passages } = await ingestMarkdownTree(root, { baseUrl: 'https://docs.example.org/book/' });
const byPath = (path: string) => passages.filter((passage) => passage.path === path);

test('the tree is named after its folder and unversioned; LICENSE and link-only pages are skipped', () => {
  assert.deepEqual(tree, { id: 'md-tree', root, kernelVersion: null });
  assert.deepEqual([...new Set(passages.map((passage) => passage.path))], ['README.md', 'docs/details.md']);
});

test('setext and ATX headings make the section path under the first H1; front matter is ignored', () => {
  assert.deepEqual(
    byPath('README.md').map((passage) => passage.sectionPath),
    [
      ['Getting Started'],
      ['Getting Started', 'Setup Steps'],
      ['Getting Started', 'Setup Steps'],
      ['Getting Started', 'Setup Steps', 'Deeper Level'],
    ],
  );
  assert.doesNotMatch(passages.map((passage) => passage.text).join('\n'), /front matter|layout/);
});

test('a "#" line inside a fenced block is code, not a heading', () => {
  const [intro] = byPath('README.md');
  assert.deepEqual(intro?.code, ['# not a heading inside a fence\nmake run']);
  assert.equal(intro?.text, 'Intro text with a link and `inline code`.');
});

test('anchors are GitHub/mdBook slugs, repeats numbered, and links use baseUrl with .html', () => {
  assert.equal(headingSlug('Deeper Level'), 'deeper-level');
  assert.equal(headingSlug('Arc in the Linux kernel: `pin-init`!'), 'arc-in-the-linux-kernel-pin-init');
  assert.deepEqual(
    byPath('README.md').map((passage) => passage.url),
    [
      'https://docs.example.org/book/README.html#getting-started',
      'https://docs.example.org/book/README.html#setup-steps',
      'https://docs.example.org/book/README.html#setup-steps-1',
      'https://docs.example.org/book/README.html#deeper-level',
    ],
  );
});

test('a page without an H1 is titled after its file; text before any heading has no anchor', () => {
  assert.deepEqual(
    byPath('docs/details.md').map((passage) => [passage.sectionPath, passage.anchor, passage.lines]),
    [
      [['details'], null, [1, 1]],
      [['details', 'Only Second Level'], 'only-second-level', [3, 5]],
    ],
  );
});

test('known trees link to their published pages; others fall back to the path', () => {
  assert.equal(
    markdownUrl('/x/rust-for-linux.com', 'src/Out-of-tree-modules.md', 'overview'),
    'https://rust-for-linux.com/out-of-tree-modules#overview',
  );
  assert.equal(
    markdownUrl('/x/rust-out-of-tree-module', 'README.md', 'rust-analyzer'),
    'https://github.com/Rust-for-Linux/rust-out-of-tree-module#rust-analyzer',
  );
  assert.equal(markdownUrl('/x/notes', 'a/b.md', 'c'), 'a/b.md#c');
});

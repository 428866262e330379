import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ingestFaq } from '../../knowledge/ingest/faq.ts';

const dir = fileURLToPath(new URL('../fixtures/ingest/faq', import.meta.url));
const result = await ingestFaq(dir);

test('a well-formed entry becomes one faq passage linking to its first link, searchable by its aliases', () => {
  assert.deepEqual(result.tree, { id: 'faq', root: dir, kernelVersion: null });
  assert.equal(result.passages.length, 1);
  const [passage] = result.passages;
  assert.deepEqual(
    { ...passage, text: undefined },
    {
      id: 'faq:good-entry.md#good-entry',
      tree: 'faq',
      kernelVersion: null,
      path: 'good-entry.md',
      sectionPath: ['FAQ', 'Why does the widget option not appear?'],
      anchor: null,
      kind: 'faq',
      text: undefined,
      code: ['make widgetcheck'],
      url: 'https://example.org/widgets/config.html#options',
      lines: [9, 15],
      keywords: ['widget option missing', 'WIDGET_AVAILABLE'],
    },
  );
  assert.equal(
    passage?.text,
    'The option only shows up when the toolchain check passes. Run the check first:\n\nThen look again.',
  );
});

test('the entry keeps its slug, aliases, links and Markdown body for the !faq command', () => {
  assert.deepEqual(result.entries, [
    {
      slug: 'good-entry',
      title: 'Why does the widget option not appear?',
      body: 'The option only shows up when the **toolchain** check passes. Run the check first:\n\n```sh\nmake widgetcheck\n```\n\nThen look again.',
      links: ['https://example.org/widgets/config.html#options', 'https://example.org/widgets/faq.html'],
      aliases: ['widget option missing', 'WIDGET_AVAILABLE'],
    },
  ]);
});

test('malformed entries are skipped, each with a problem naming the file and the fix', () => {
  assert.equal(result.problems.length, 3);
  const problem = (file: string) => result.problems.find((line) => line.includes(file)) ?? '';
  assert.match(problem('bad-yaml.md'), /not valid YAML/);
  assert.match(problem('no-title.md'), /no title/);
  assert.match(problem('no-links.md'), /links must list at least one http\(s\) URL/);
  for (const line of result.problems) assert.match(line, /entry skipped$/);
});

test('a missing FAQ folder is a problem, not a crash', async () => {
  const missing = await ingestFaq(`${dir}-does-not-exist`);
  assert.deepEqual(missing.passages, []);
  assert.match(missing.problems[0] ?? '', /does not exist/);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderDiscord } from '../../bot/adapters/discord/render.ts';
import { renderMatrix } from '../../bot/adapters/matrix/render.ts';
import { renderPlainText } from '../../bot/chat/render-text.ts';
import type { RichMessage } from '../../bot/chat/rich-message.ts';

const message: RichMessage = {
  lead: 'Run `make LLVM=1 rustavailable` to check the toolchain.',
  code: { language: 'sh', text: 'make LLVM=1 rustavailable\n' },
  details: ['It explains what is missing.', 'Then enable CONFIG_RUST.'],
  sources: [
    {
      title: 'Quick Start › Requirements',
      url: 'https://docs.kernel.org/6.1/rust/quick-start.html#req',
      kernelVersion: '6.1.192',
    },
    { title: 'FAQ: toolchains', url: 'https://example.org/faq#toolchains', kernelVersion: null },
  ],
};

test('lead, fenced code, details and a one-line Sources list, in that order', () => {
  assert.equal(
    renderPlainText(message),
    [
      'Run `make LLVM=1 rustavailable` to check the toolchain.',
      '```sh',
      'make LLVM=1 rustavailable',
      '```',
      'It explains what is missing.',
      'Then enable CONFIG_RUST.',
      'Sources: [1] Quick Start › Requirements (6.1) <https://docs.kernel.org/6.1/rust/quick-start.html#req>' +
        ' · [2] FAQ: toolchains <https://example.org/faq#toolchains>',
    ].join('\n'),
  );
});

test('code can be indented instead of fenced', () => {
  const text = renderPlainText(
    { ...message, code: { language: 'c', text: 'int a;\nint b;' } },
    { codeStyle: 'indented' },
  );
  assert.match(text, /\n {4}int a;\n {4}int b;\n/);
  assert.doesNotMatch(text, /```/);
});

test('code holding a fence gets a longer one, so the block cannot end early', () => {
  const text = renderPlainText({
    lead: 'A Markdown sample:',
    code: { language: 'md', text: '```rust\nfn f() {}\n```' },
    details: [],
    sources: [],
  });
  assert.equal(text, 'A Markdown sample:\n````md\n```rust\nfn f() {}\n```\n````');
});

test('a message without sources has no Sources line', () => {
  assert.equal(renderPlainText({ lead: 'Hello!', details: [], sources: [] }), 'Hello!');
});

test('code holding a long run of blank lines before its end renders at once on every platform', () => {
  // A pasted log of 100,000 empty lines then text: /\n+$/ would rescan the run from each line (seconds).
  const code = { language: 'text', text: `${'\n'.repeat(100_000)}end\n\n` };
  const started = performance.now();
  const plain = renderPlainText({ lead: 'Log:', code, details: [], sources: [] });
  const matrix = renderMatrix({ lead: 'Log:', code, details: [], sources: [] });
  const discord = renderDiscord({ lead: 'Log:', code, details: [], sources: [] });
  assert.ok(performance.now() - started < 1000, `${Math.round(performance.now() - started)} ms`);
  assert.ok(plain.endsWith('end\n```'));
  assert.match(matrix.html, /more lines not shown\]<\/code><\/pre>$/, 'too big for one event: trimmed');
  assert.equal(discord.attachment?.text.endsWith('\nend\n'), true);
});

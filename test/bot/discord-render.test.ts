import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderDiscord, splitMessage } from '../../bot/adapters/discord/render.ts';
import type { RichMessage } from '../../bot/chat/rich-message.ts';

const code = (lines: number) =>
  Array.from({ length: lines }, (_, i) => `    pr_info!("step ${i}");`).join('\n');
const fencesBalanced = (text: string) => (text.match(/^```/gm) ?? []).length % 2 === 0;

test('a short answer is one message with masked links that do not unfurl', () => {
  const message: RichMessage = {
    lead: 'Use rustc 1.62.0.',
    details: [],
    sources: [{ title: 'Quick [Start]', url: 'https://example.org/a', kernelVersion: '6.1.50' } as never],
  };
  assert.deepEqual(renderDiscord(message), {
    messages: ['Use rustc 1.62.0.\nSources: [1] [Quick \\[Start\\] (6.1)](<https://example.org/a>)'],
    attachment: null,
  });
});

test('a cut inside a code block closes it and reopens it with its language', () => {
  const chunks = splitMessage(`Lead\n\`\`\`rust\n${code(200)}\n\`\`\`\nAfter`, 2000);
  assert.ok(chunks.length > 1);
  for (const chunk of chunks) {
    assert.ok(chunk.length <= 2000, `${chunk.length}`);
    assert.ok(fencesBalanced(chunk));
  }
  assert.ok(chunks.slice(1).every((chunk) => chunk.startsWith('```rust\n')));
  const steps = chunks.join('\n').match(/step \d+/g) ?? [];
  assert.equal(steps.length, 200, 'every line once');
});

test('a reply past three messages becomes a preview and the code as a file', () => {
  const message: RichMessage = {
    lead: 'Build log:',
    code: { language: 'text', text: code(500) },
    details: ['!log abcde shows it all.'],
    sources: [],
  };
  const { messages, attachment } = renderDiscord(message);
  assert.equal(messages.length, 1);
  assert.ok(messages[0]!.length <= 2000 && fencesBalanced(messages[0]!));
  assert.match(
    messages[0]!,
    /!log abcde shows it all\.\n\(The whole text is in the attached output\.txt\.\)$/,
  );
  assert.equal(attachment?.name, 'output.txt');
  assert.equal(attachment?.text.trimEnd().split('\n').length, 500);
});

/**
 * What Discord still reads as Markdown: the text with escapes and inline code spans blanked out, the
 * way its parser takes them, left to right.
 */
const markup = (text: string) => text.replace(/\\[^\s\w]|`[^`\n]+`/g, ' ');
const MASKED_LINK = /\[[^\]]*\]\(/;
const PING = /@(everyone|here)|<@|<#|<t:/;

test('a masked link in a refused option comes back as text, its address shown whole', () => {
  const lead =
    'I don’t know the option -[click-me](https://evil.example/phish); I know --boot and --kernel <series>.';
  const [text = ''] = renderDiscord({ lead, details: [], sources: [] }).messages;
  assert.equal(
    text,
    'I don’t know the option -\\[click-me\\](<https://evil.example/phish>); I know --boot and --kernel \\<series>.',
  );
  assert.doesNotMatch(markup(text), MASKED_LINK);
});

test('a pasted config line with a masked link and @everyone neither links nor pings', () => {
  const [text = ''] = renderDiscord({
    lead: '❌ CONFIG_RUST cannot be enabled — Linux 6.1.50',
    details: ['• CONFIG_HAVE_RUST=[Official RFL login](https://evil.example/phish) @everyone <@&42> <#7>'],
    sources: [],
  }).messages;
  const line = text.split('\n')[1]!;
  assert.equal(
    line,
    '• CONFIG\\_HAVE\\_RUST=\\[Official RFL login\\](<https://evil.example/phish>) @\u200beveryone \\<@&42> \\<#7>',
  );
  assert.doesNotMatch(markup(text), MASKED_LINK);
  assert.doesNotMatch(markup(text), PING);
});

test('headings, subtext, quotes, lists, spoilers and emphasis in user text stay text', () => {
  const details = [
    '# Free Nitro',
    '-# fine print',
    '>>> quoted',
    '1. first',
    '  - nested',
    '||x|| ~~y~~ **z** __w__',
  ];
  const [text = ''] = renderDiscord({ lead: 'You wrote:', details, sources: [] }).messages;
  assert.deepEqual(text.split('\n').slice(1), [
    '\\# Free Nitro',
    '\\-# fine print',
    '\\>>> quoted',
    '1\\. first',
    '  \\- nested',
    '\\|\\|x\\|\\| \\~\\~y\\~\\~ \\*\\*z\\*\\* \\_\\_w\\_\\_',
  ]);
});

test('a backtick in user text cannot end our inline code early; the rest stays text', () => {
  const lead = 'I don’t know the command `!x`[a](https://evil.example)`.';
  const [text = ''] = renderDiscord({ lead, details: [], sources: [] }).messages;
  assert.equal(text, 'I don’t know the command `!x`\\[a\\](<https://evil.example>)\\`.');
  assert.doesNotMatch(markup(text), MASKED_LINK);
});

test('bare links are shown whole in <…> (no embed), sentence punctuation left outside', () => {
  const [text = ''] = renderDiscord({
    lead: 'See https://docs.kernel.org/rust/quick-start.html. Also https://en.wikipedia.org/wiki/Rust_(language).',
    details: [],
    sources: [],
  }).messages;
  assert.equal(
    text,
    'See <https://docs.kernel.org/rust/quick-start.html>. Also <https://en.wikipedia.org/wiki/Rust_(language)>.',
  );
});

test('a line too long for one message is cut without freeing an escaped link or a code span’s text', () => {
  const hostile = '[click](https://evil.example/p) @everyone ';
  const lead = `${hostile.repeat(60)}\`${'x'.repeat(2500)}[c](https://evil.example/q)\` ${hostile.repeat(20)}`;
  const { messages } = renderDiscord({ lead, details: [], sources: [] }, { maxMessages: 10 });
  assert.ok(messages.length > 2);
  for (const message of messages) {
    assert.ok(message.length <= 2000);
    assert.doesNotMatch(markup(message), MASKED_LINK);
    assert.doesNotMatch(markup(message), PING);
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderDiscord, splitMessage } from '../bot/render-discord.ts';
import type { RichMessage } from '../bot/rich-message.ts';

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

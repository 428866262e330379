/** `!sources [n]`: more of the passages the last answer in this conversation was drawn from. */
import { citationFor } from '../../knowledge/compose.ts';
import type { Passage } from '../../knowledge/passage.ts';
import { formatSource } from '../chat/render-text.ts';
import { textMessage } from '../chat/rich-message.ts';
import { shorten } from '../chat/shorten.ts';
import { type Command, ok } from './command.ts';

export const DEFAULT_SOURCES = 3;
export const MAX_SOURCES = 10;
const EXCERPT_CHARS = 160;

function excerpt(passage: Passage): string {
  return shorten(passage.text || passage.code[0] || '', EXCERPT_CHARS);
}

export const sourcesCommand: Command = {
  name: 'sources',
  usage: '[n]',
  summary: `show n more passages (default ${DEFAULT_SOURCES}) behind the last answer`,
  async run({ args, memory, message, prefix }) {
    const count = args === '' ? DEFAULT_SOURCES : Number(args);
    if (!Number.isInteger(count) || count < 1) {
      return ok(
        textMessage(`Give me a number of passages, like ${prefix}sources 5 (or just ${prefix}sources).`),
      );
    }
    const last = memory.lastAnswer(message.conversation);
    if (!last) {
      return ok(
        textMessage(
          `I haven’t answered a question here yet. Ask one first; then ${prefix}sources shows more of what I found.`,
        ),
      );
    }
    const unseen = last.passages.filter((passage) => !last.shown.has(passage.id));
    const about = `“${shorten(last.question, 60)}”`;
    if (unseen.length === 0) return ok(textMessage(`That’s everything I found for ${about}.`));
    const batch = unseen.slice(0, Math.min(count, MAX_SOURCES));
    const details = batch.flatMap((passage, index) => {
      const lines = [formatSource(citationFor(passage), last.numbered + index + 1)];
      const text = excerpt(passage);
      return text ? [...lines, `    ${text}`] : lines;
    });
    for (const passage of batch) last.shown.add(passage.id);
    last.numbered += batch.length;
    const left = unseen.length - batch.length;
    if (count > MAX_SOURCES) details.push(`(I show at most ${MAX_SOURCES} at a time.)`);
    details.push(left > 0 ? `${left} more: ${prefix}sources` : 'That’s everything I found.');
    return ok(textMessage(`More of what I found for ${about}:`, details));
  },
};

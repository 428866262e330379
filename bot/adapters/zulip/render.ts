/**
 * Zulip rendering of a RichMessage: Zulip Markdown where our inline code spans, the code block and the
 * sources' links are the only formatting. Lead and details are plain text (they quote users): every
 * character Zulip would read as Markdown is escaped, so a quoted `@**name**` notifies nobody, `**x**` is
 * not bold and a `[link](…)` is not a link; bare links stay whole, for Zulip to link. A reply longer than
 * Zulip's 10,000 characters keeps its start (the code cut) and hands the whole text over as a file.
 */

import {
  type MarkdownDialect,
  markdownReply,
  seriesNote,
  withoutTrailingNewlines,
} from '../../chat/render-text.ts';
import type { RichMessage } from '../../chat/rich-message.ts';

/** Zulip's limit on a message's content (the server's MAX_MESSAGE_LENGTH). */
export const ZULIP_MESSAGE_LIMIT = 10_000;
/** Room kept for the line that links the attached file. */
const FILE_LINK_RESERVE = 600;

export interface ZulipRendering {
  content: string;
  /** A file to upload and link after the content: the message's own, or the whole text that did not fit. */
  file: { name: string; text: string } | null;
}

/**
 * Backslash escapes for the punctuation Zulip's Markdown lets escape (mentions `@**…**`, emphasis, links,
 * code, quotes, table cells); `$` (math), `~` (strikethrough) and `<` (`<time:…>`) have no escape, so a
 * zero-width space parts them from what follows.
 */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]()>|]/g, '\\$&').replace(/[$~<]/g, '$&\u200b');
}

/** A line starting a heading, quote or list, as text; a message starting `/me` as text too (no escape for `/`). */
function escapeLineStart(line: string): string {
  return line
    .replace(/^([ \t]*)([#>+-])/, '$1\\$2')
    .replace(/^([ \t]*\d+)\./, '$1\\.')
    .replace(/^\/me\b/, '\u200b/me');
}

/** Plain text with its bare links kept whole (Zulip links them); sentence punctuation after one stays text. */
function escapeText(text: string): string {
  return text
    .split(/(https?:\/\/[^\s<>`*()[\]]+)/)
    .map((part, index) => {
      if (index % 2 === 0) return escapeMarkdown(part);
      let end = part.length;
      while (end > 0 && '.,:;!?\'"'.includes(part[end - 1]!)) end -= 1;
      return part.slice(0, end) + escapeMarkdown(part.slice(end));
    })
    .join('');
}

const ZULIP: MarkdownDialect = {
  text: escapeText,
  lineStart: escapeLineStart,
  source: (source, number) =>
    `[${number}] [${escapeMarkdown(source.title + seriesNote(source))}](${source.url.replace(/[()\s]/g, encodeURIComponent)})`,
};

const renderMarkdown = (message: RichMessage) => markdownReply(message, ZULIP);

/** The first lines of `text` that fit in `maxChars`. */
function firstLines(text: string, maxChars: number): string {
  const lines: string[] = [];
  let length = 0;
  for (const line of text.split('\n')) {
    if (length + line.length + 1 > maxChars) break;
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join('\n');
}

export function renderZulip(message: RichMessage, maxChars = ZULIP_MESSAGE_LIMIT): ZulipRendering {
  const whole = renderMarkdown(message);
  if (whole.length <= maxChars - (message.file ? FILE_LINK_RESERVE : 0))
    return { content: whole, file: message.file ?? null };
  const file = message.code
    ? {
        name: message.code.language === 'rust' ? 'module.rs' : 'output.txt',
        text: `${withoutTrailingNewlines(message.code.text)}\n`,
      }
    : { name: 'reply.md', text: whole };
  const budget = maxChars - FILE_LINK_RESERVE;
  // The code is cut first: its whole text is in the file; the words around it stay.
  const withoutCode = renderMarkdown({ ...message, code: undefined });
  const codeBudget = budget - withoutCode.length - 20;
  const code = message.code &&
    codeBudget > 200 && { ...message.code, text: firstLines(message.code.text, codeBudget) };
  const shortened = code ? renderMarkdown({ ...message, code }) : firstLines(withoutCode, budget);
  return { content: firstLines(shortened, budget), file };
}

/**
 * Discord rendering of a RichMessage: Markdown with masked source links (embeds suppressed), cut into
 * messages of at most 2,000 characters without breaking code fences (a cut inside a block closes it and
 * reopens it, same language, in the next message). Replies that need more than a few messages are sent
 * as one preview message plus an attached file.
 * Lead and details are plain text (they quote users): everything Discord would read as Markdown is
 * escaped, except our inline code spans; bare links are shown whole, in <…> so they do not unfurl.
 */

import { FENCE_LINE } from '../../chat/input.ts';
import {
  type MarkdownDialect,
  markdownReply,
  seriesNote,
  sourcesLine,
  withoutTrailingNewlines,
} from '../../chat/render-text.ts';
import type { RichMessage } from '../../chat/rich-message.ts';

/** Discord's limit on a message's content. */
export const DISCORD_MESSAGE_LIMIT = 2000;
/** More messages than this for one reply would flood a channel: the whole text goes in a file instead. */
export const DEFAULT_MAX_MESSAGES = 3;
/** Room kept in each message for a fence reopened at its start and closed at its end. */
const FENCE_RESERVE = 40;
/** Longer "links" are shown as text: a link is never cut, so it must fit well within one message. */
const MAX_LINK_CHARS = 500;

export interface DiscordRendering {
  /** Message contents, in order, each within the limit. */
  messages: string[];
  /** The whole text when it did not fit in the messages. */
  attachment: { name: string; text: string } | null;
}

export interface DiscordRenderOptions {
  maxChars?: number;
  maxMessages?: number;
}

/**
 * Emphasis, strikethrough, spoilers, masked links, stray backticks, and `<` (autolinks, mentions of
 * users, roles and channels, timestamps, custom emoji) as literal text; @everyone and @here made inert.
 */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\*_~`|[\]<]/g, '\\$&').replace(/@(everyone|here)/g, '@\u200b$1');
}

/** A line starting a heading (also `-#`), quote or list, as text. */
function escapeLineStart(line: string): string {
  return line.replace(/^([ \t]*)([#>+-])/, '$1\\$2').replace(/^([ \t]*\d+)\./, '$1\\.');
}

/** Where a link found in text ends: sentence punctuation after it is not part of it, nor an unopened ")". */
function linkLength(candidate: string): number {
  let unclosed = 0;
  for (const char of candidate) unclosed += char === '(' ? 1 : char === ')' ? -1 : 0;
  let end = candidate.length;
  for (; end > 0; end -= 1) {
    const last = candidate[end - 1]!;
    if (last === ')' && unclosed < 0) unclosed += 1;
    else if (last === ')' || !'.,:;!?\'"]'.includes(last)) break;
  }
  return end;
}

/** Plain text: Markdown escaped, each bare link kept whole and wrapped in <…> (shown as is, no embed). */
function escapeText(text: string): string {
  return text
    .split(/(https?:\/\/[^\s<>`]+)/)
    .map((part, index) => {
      if (index % 2 === 0) return escapeMarkdown(part);
      const end = linkLength(part);
      if (end > MAX_LINK_CHARS || end <= part.indexOf('//') + 2) return escapeMarkdown(part);
      return `<${part.slice(0, end)}>${escapeMarkdown(part.slice(end))}`;
    })
    .join('');
}

/** `[1] [Title (6.1)](<url>)`: the angle brackets keep Discord from unfurling every source. */
const DISCORD: MarkdownDialect = {
  text: escapeText,
  lineStart: escapeLineStart,
  source: (source, number) =>
    `[${number}] [${escapeMarkdown(source.title + seriesNote(source))}](<${source.url}>)`,
};

/** The whole reply as one Markdown text, before any cutting. */
export function renderDiscordMarkdown(message: RichMessage): string {
  return markdownReply(message, DISCORD);
}

/** Whether `line` closes a block opened with `marker` (same character, at least as long, nothing else). */
function closes(line: string, marker: string): boolean {
  const trimmed = line.trim();
  return trimmed.length >= marker.length && trimmed === marker[0]!.repeat(trimmed.length);
}

const chunksOf = (text: string, size: number) => text.match(new RegExp(`.{1,${size}}`, 'gs')) ?? [];

/** What a cut in rendered text must not split: an escape, an inline code span, a wrapped link. */
const RENDERED_ATOM = /\\.|`[^`\n]*`|<[^<>\n]*>|./gs;

/**
 * A rendered text line too long for one message, cut between atoms: no escape loses its backslash, no
 * user text falls out of a code span (a long one becomes several), and a piece starting a line is
 * escaped like any line start.
 */
function cutTextLine(line: string, maxChars: number): string[] {
  const size = maxChars - 1;
  const atoms = (line.match(RENDERED_ATOM) ?? []).flatMap((atom) => {
    if (atom.length <= size) return [atom];
    if (atom.startsWith('`')) return chunksOf(atom.slice(1, -1), size - 2).map((code) => `\`${code}\``);
    // A wrapped link longer than a piece: pieces are 900+ characters in any real reply, links 500 at most.
    return chunksOf(atom, size);
  });
  const pieces: string[] = [];
  let piece = '';
  for (const atom of atoms) {
    if (piece !== '' && piece.length + atom.length > size) {
      pieces.push(piece);
      piece = '';
    }
    piece += atom;
  }
  pieces.push(piece);
  return pieces.map((text, index) => (index === 0 ? text : escapeLineStart(text)));
}

/** Cuts `text` into pieces of at most `maxChars`, at line ends where possible, fences kept balanced. */
export function splitMessage(text: string, maxChars = DISCORD_MESSAGE_LIMIT): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let length = -1;
  let open: { line: string; marker: string } | null = null;
  const push = (line: string) => {
    current.push(line);
    length += line.length + 1;
  };
  const flush = () => {
    // A block opened on the last line starts in the next message instead of sitting empty here.
    const carried = open && current.at(-1) === open.line ? current.pop() : undefined;
    if (current.length > 0) chunks.push([...current, ...(open && !carried ? [open.marker] : [])].join('\n'));
    current = [];
    length = -1;
    if (open) push(open.line);
  };
  const pieceLength = Math.max(Math.ceil(maxChars / 2), maxChars - FENCE_RESERVE);
  for (const line of text.split('\n')) {
    const pieces: string[] =
      line.length <= pieceLength
        ? [line]
        : open
          ? chunksOf(line, pieceLength)
          : cutTextLine(line, pieceLength);
    for (const piece of pieces) {
      const opens: string | undefined = open ? undefined : FENCE_LINE.exec(piece)?.[1];
      const ends = open !== null && closes(piece, open.marker);
      // Room for the closing fence this message will need after the piece.
      const closing = ends ? 0 : ((open?.marker ?? opens)?.length ?? -1) + 1;
      if (current.length > 0 && length + 1 + piece.length + closing > maxChars) flush();
      push(piece);
      if (ends) open = null;
      else if (opens) open = { line: piece, marker: opens };
    }
  }
  open = null;
  flush();
  return chunks;
}

/** What goes in the file: the code itself when there is code (a log, a module), else the whole reply. */
function attachmentFor(message: RichMessage): { name: string; text: string } {
  if (!message.code) return { name: 'reply.md', text: renderDiscordMarkdown(message) };
  const name = message.code.language === 'rust' ? 'module.rs' : 'output.txt';
  return { name, text: `${withoutTrailingNewlines(message.code.text)}\n` };
}

/** One message: the start of the reply, then (kept whole) the pointers after the code, sources and a note. */
function preview(message: RichMessage, note: string, maxChars: number): string {
  const sources = sourcesLine(message.sources, DISCORD.source);
  const withDetails = [...(message.code ? message.details : []), sources, note].filter((l) => l !== null);
  const short = [sources, note].filter((l) => l !== null);
  const tail = (withDetails.join('\n').length <= maxChars / 2 ? withDetails : short).join('\n');
  const head = renderDiscordMarkdown({
    ...message,
    details: message.code ? [] : message.details,
    sources: [],
  });
  const [first = ''] = splitMessage(head, maxChars - tail.length - 1);
  return `${first}\n${tail}`;
}

export function renderDiscord(message: RichMessage, options: DiscordRenderOptions = {}): DiscordRendering {
  const maxChars = options.maxChars ?? DISCORD_MESSAGE_LIMIT;
  const maxMessages = options.maxMessages ?? DEFAULT_MAX_MESSAGES;
  const messages = splitMessage(renderDiscordMarkdown(message), maxChars);
  if (messages.length <= maxMessages) return { messages, attachment: message.file ?? null };
  const attachment = attachmentFor(message);
  const note = `(The whole ${message.code ? 'text' : 'reply'} is in the attached ${attachment.name}.)`;
  return { messages: [preview(message, note, maxChars)], attachment };
}

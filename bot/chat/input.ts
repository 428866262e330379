/**
 * Incoming text made safe to work with: terminal escapes and control characters removed, binary junk
 * and empty messages refused, long messages cut to a cap, and an unclosed code fence closed.
 */
import { stripControls, stripEscapeSequences } from '../../config/printable.ts';
import type { Result } from '../../config/result.ts';

export const DEFAULT_MAX_MESSAGE_CHARS = 2000;

export interface CleanText {
  text: string;
  /** The message was longer than the cap and was cut; the reply should say so. */
  truncated: boolean;
}

// What text never holds but binary does: controls other than whitespace, and U+FFFD from bad UTF-8.
const JUNK = /[[\p{Cc}--[\t\n\v\f\r]]\u{FFFD}]/gv;
/** Above this share of junk characters it is not text; a stray one or two in a short message are let be. */
const BINARY_JUNK_SHARE = 0.1;
const BINARY_MIN_JUNK = 3;
const BINARY_SAMPLE_CHARS = 64 * 1024;

/** A line opening or closing a fenced block, after any indentation; group 1 is its marker. */
export const FENCE_LINE = /^\s*(`{3,}|~{3,})/;

/** Closes a code fence the user opened but never closed, so nothing downstream reads prose as code. */
export function closeOpenFence(text: string): string {
  let open: string | null = null;
  for (const line of text.split('\n')) {
    const fence = FENCE_LINE.exec(line)?.[1];
    if (!fence) continue;
    if (open === null) open = fence;
    else if (fence[0] === open[0] && fence.length >= open.length) open = null;
  }
  return open === null ? text : `${text}\n${open}`;
}

export interface CleanOptions {
  maxChars?: number;
  /** How the user asks for help here (`!help`), for the empty-message hint. */
  helpCommand: string;
}

export function cleanIncomingText(raw: string, options: CleanOptions): Result<CleanText> {
  const maxChars = options.maxChars ?? DEFAULT_MAX_MESSAGE_CHARS;
  // Judging a sample is enough, and keeps a pasted multi-megabyte blob cheap to refuse.
  // Colour codes from a pasted terminal log are not binary: they go before judging.
  const sample = stripEscapeSequences(raw.slice(0, BINARY_SAMPLE_CHARS).toWellFormed());
  const junk = sample.match(JUNK)?.length ?? 0;
  if (junk >= BINARY_MIN_JUNK && junk / sample.length > BINARY_JUNK_SHARE) {
    return {
      ok: false,
      failure: {
        userText:
          'That looks like binary data rather than text, so I can’t read it. Please send your question as text.',
        logText: 'refused a message that looks binary',
        detail: { chars: raw.length, junkInSample: junk },
        userMistake: true,
      },
    };
  }
  // Line breaks first: stripControls takes CR out, and a lone CR ends a line too.
  const text = stripControls(raw.toWellFormed().replace(/\r\n?/g, '\n')).trim();
  if (text.length === 0) {
    return {
      ok: false,
      failure: {
        userText: `Your message was empty. Ask me anything about Rust-for-Linux, or try ${options.helpCommand} to see what I can do.`,
        logText: 'refused an empty message',
        userMistake: true,
      },
    };
  }
  const truncated = text.length > maxChars;
  const kept = truncated ? text.slice(0, maxChars).toWellFormed() : text;
  return { ok: true, value: { text: closeOpenFence(kept), truncated } };
}

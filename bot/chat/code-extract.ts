/**
 * Code from a chat message: the first fenced block (``` or ~~~, any language tag), or an attached file
 * fetched under a size cap and refused when it is binary.
 */

import type { Result } from '../../config/result.ts';
import type { AttachmentFetcher } from './capabilities.ts';
import { cleanIncomingText, closeOpenFence } from './input.ts';
import type { AttachmentInfo } from './message.ts';

export interface ExtractedCode {
  code: string;
  /** The text before the block: where options like `--boot` are. */
  before: string;
  /** The block was never closed: the code runs to the end of the message. */
  unclosed: boolean;
}

const FENCE_OPEN = /^[ \t]*(`{3,}|~{3,})/m;

/** The first fenced block of `text`; null when there is none. */
export function extractFencedCode(text: string): ExtractedCode | null {
  const open = FENCE_OPEN.exec(text);
  if (!open) return null;
  const fence = open[1]!;
  // The language tag and anything else on the fence line are not code.
  const lineEnd = text.indexOf('\n', open.index);
  const bodyStart = lineEnd < 0 ? text.length + 1 : lineEnd + 1;
  const lines = text.slice(bodyStart).split('\n');
  const closing = lines.findIndex((line) => {
    const trimmed = line.trim();
    return trimmed.startsWith(fence[0]!.repeat(fence.length)) && /^(`+|~+)$/.test(trimmed);
  });
  const body = closing < 0 ? lines : lines.slice(0, closing);
  return { code: body.join('\n'), before: text.slice(0, open.index), unclosed: closing < 0 };
}

/** Whether the user left a code fence open (the router closes it before commands see the text). */
export function fenceLeftOpen(rawText: string): boolean {
  return closeOpenFence(rawText) !== rawText;
}

export interface AttachmentRules {
  maxBytes: number;
  /** Whether a file name is of the right kind (`.rs`); other files are refused by name. */
  accepts: (lowerCaseName: string) => boolean;
  /** What the file should be, for refusals ("a Rust source file (.rs)"). */
  description: string;
}

/** The first attachment, fetched and decoded; a failure tells the user what was wrong with it. */
export async function fetchTextAttachment(
  attachment: AttachmentInfo,
  fetcher: AttachmentFetcher,
  rules: AttachmentRules,
): Promise<Result<string>> {
  const refuse = (userText: string, logText: string): Result<string> => ({
    ok: false,
    failure: {
      userText,
      logText,
      detail: { name: attachment.name, size: attachment.size },
      userMistake: true,
    },
  });
  if (!rules.accepts(attachment.name.toLowerCase())) {
    return refuse(
      `I can only take ${rules.description} here; “${attachment.name}” is not one.`,
      'refused an attachment by its name',
    );
  }
  const fetched = await fetcher.fetch(attachment, { maxBytes: rules.maxBytes });
  if (!fetched.ok) return fetched;
  const text = new TextDecoder('utf-8').decode(fetched.value);
  if (text.trim() === '') return refuse(`“${attachment.name}” is empty.`, 'refused an empty attachment');
  const cleaned = cleanIncomingText(text, { maxChars: rules.maxBytes, helpCommand: '' });
  if (!cleaned.ok) {
    return refuse(
      `“${attachment.name}” looks like binary data, not ${rules.description}. Please attach the text file.`,
      'refused a binary attachment',
    );
  }
  return { ok: true, value: text.replace(/\r\n?/g, '\n') };
}

/**
 * Outgoing content, platform-neutral: every adapter renders the same structure its own way
 * (plain text in the terminal, HTML for Matrix, Markdown for Discord).
 */
import type { Answer, Citation } from '../../knowledge/answer-types.ts';

export interface RichMessage {
  /**
   * The main text: 1-3 sentences. Lead and details are plain text (often quoting users) whose only
   * formatting is inline code (`x`): every renderer shows anything else literally.
   */
  lead: string;
  code?: { language: string; text: string };
  /** Further lines after the lead (and after the code block). */
  details: string[];
  /** The links of the "Sources:" line, best first. */
  sources: Citation[];
  /** A text file sent with the message where the platform takes files (a job's whole log). */
  file?: { name: string; text: string };
  /** A picture sent with the message where the platform shows them (the digest's chart). */
  image?: { name: string; png: Uint8Array };
}

/** A piece of a lead or detail line: plain text, or the content of an inline code span. */
export interface InlinePart {
  kind: 'text' | 'code';
  text: string;
}

/**
 * A line's inline code spans and the plain text between them. A span is one backtick, then no backtick
 * or line break, then one backtick: a backtick left over (user text holding one) is plain text.
 */
export function inlineParts(line: string): InlinePart[] {
  return line
    .split(/(`[^`\n]+`)/)
    .map(
      (part, index): InlinePart =>
        index % 2 === 1 ? { kind: 'code', text: part.slice(1, -1) } : { kind: 'text', text: part },
    )
    .filter((part) => part.text !== '');
}

/** How a Markdown platform shows plain text: the escaping of a piece of text, and of a line's start. */
export interface MarkdownEscapes {
  text(plain: string): string;
  lineStart(line: string): string;
}

/** Lead or detail text as Markdown: our inline code spans as they are, everything else escaped. */
export function markdownText(text: string, escapes: MarkdownEscapes): string {
  return text
    .split('\n')
    .map((line) => {
      const parts = inlineParts(line).map((part) =>
        part.kind === 'code' ? `\`${part.text}\`` : escapes.text(part.text),
      );
      return escapes.lineStart(parts.join(''));
    })
    .join('\n');
}

export function textMessage(lead: string, details: string[] = []): RichMessage {
  return { lead, details, sources: [] };
}

export function answerMessage(answer: Answer): RichMessage {
  return {
    lead: answer.lead,
    ...(answer.code ? { code: answer.code } : {}),
    details: answer.details,
    sources: answer.citations,
  };
}

/**
 * Outgoing content, platform-neutral: every adapter renders the same structure its own way
 * (plain text in the terminal, HTML for Matrix, Markdown for Discord).
 */
import type { Answer, Citation } from '../knowledge/answer-types.ts';

export interface RichMessage {
  /** The main text: 1-3 sentences, Markdown inline code allowed. */
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

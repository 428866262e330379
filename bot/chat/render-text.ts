/** Plain-text rendering of a RichMessage: the terminal uses it, and adapters can reuse its pieces. */
import { kernelSeries } from '../../jobs/kernel/version.ts';
import type { Citation } from '../../knowledge/answer-types.ts';
import { type MarkdownEscapes, markdownText, type RichMessage } from './rich-message.ts';

export interface PlainTextOptions {
  /** `fenced` keeps ``` fences (pastes well into chats); `indented` indents code by four spaces. */
  codeStyle?: 'fenced' | 'indented';
}

/** The series a source belongs to, as its title is followed on every platform: ` (6.1)`, or nothing. */
export function seriesNote(source: Citation): string {
  return source.kernelVersion ? ` (${kernelSeries(source.kernelVersion)})` : '';
}

/** The one-line "Sources: [1] … · [2] …" with each link as `format` writes it, or null when there are none. */
export function sourcesLine(
  sources: Citation[],
  format: (source: Citation, number: number) => string,
): string | null {
  if (sources.length === 0) return null;
  return `Sources: ${sources.map((source, index) => format(source, index + 1)).join(' · ')}`;
}

/** One source as the plain-text Sources line shows it: `[1] Title (6.1) <url>`. */
export function formatSource(source: Citation, number: number): string {
  return `[${number}] ${source.title}${seriesNote(source)} <${source.url}>`;
}

/** The plain-text Sources line. */
export function formatSourcesLine(sources: Citation[]): string | null {
  return sourcesLine(sources, formatSource);
}

/** How a Markdown platform writes a reply: its escapes, and one source link. */
export interface MarkdownDialect extends MarkdownEscapes {
  source(source: Citation, number: number): string;
}

/** The whole reply as one Markdown text, before any cutting: lead, code block, details, sources. */
export function markdownReply(message: RichMessage, dialect: MarkdownDialect): string {
  const blocks = [markdownText(message.lead, dialect)];
  if (message.code) blocks.push(renderCodeBlock(message.code, 'fenced'));
  if (message.details.length > 0) blocks.push(markdownText(message.details.join('\n'), dialect));
  const sources = sourcesLine(message.sources, dialect.source);
  if (sources) blocks.push(sources);
  return blocks.filter((block) => block.length > 0).join('\n');
}

/** The text without the line breaks it ends with (a loop: /\n+$/ rescans a long run from each of its breaks). */
export function withoutTrailingNewlines(text: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === '\n') end -= 1;
  return text.slice(0, end);
}

/** A fence longer than any backtick run inside the code, so code holding ``` cannot end it early. */
function fenceFor(code: string): string {
  const longestRun = Math.max(0, ...(code.match(/`+/g) ?? []).map((run) => run.length));
  return '`'.repeat(Math.max(3, longestRun + 1));
}

export function renderCodeBlock(
  code: { language: string; text: string },
  style: PlainTextOptions['codeStyle'] = 'fenced',
): string {
  const text = withoutTrailingNewlines(code.text);
  if (style === 'indented') return text.replace(/^/gm, '    ');
  const fence = fenceFor(text);
  return `${fence}${code.language}\n${text}\n${fence}`;
}

export function renderPlainText(message: RichMessage, options: PlainTextOptions = {}): string {
  const blocks = [message.lead];
  if (message.code) blocks.push(renderCodeBlock(message.code, options.codeStyle));
  if (message.details.length > 0) blocks.push(message.details.join('\n'));
  const sources = formatSourcesLine(message.sources);
  if (sources) blocks.push(sources);
  return blocks.filter((block) => block.length > 0).join('\n');
}

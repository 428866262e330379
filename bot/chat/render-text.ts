/** Plain-text rendering of a RichMessage: the terminal uses it, and adapters can reuse its pieces. */
import { kernelSeries } from '../../jobs/kernel/version.ts';
import type { Citation } from '../../knowledge/answer-types.ts';
import type { RichMessage } from './rich-message.ts';

export interface PlainTextOptions {
  /** `fenced` keeps ``` fences (pastes well into chats); `indented` indents code by four spaces. */
  codeStyle?: 'fenced' | 'indented';
}

/** One source as the Sources line shows it: `[1] Title (6.1) <url>`. */
export function formatSource(source: Citation, number: number): string {
  const version = source.kernelVersion ? ` (${kernelSeries(source.kernelVersion)})` : '';
  return `[${number}] ${source.title}${version} <${source.url}>`;
}

/** The one-line "Sources: [1] … · [2] …", or null when there are none. */
export function formatSourcesLine(sources: Citation[]): string | null {
  if (sources.length === 0) return null;
  return `Sources: ${sources.map((source, index) => formatSource(source, index + 1)).join(' · ')}`;
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

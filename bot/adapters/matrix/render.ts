/**
 * A RichMessage as a Matrix message: `body` (plain text) and `formatted_body` (HTML) made from one list
 * of blocks, so the two never say different things. Code goes in <pre><code>; a message too big for one
 * Matrix event has its code block trimmed, never cut inside the markup.
 */
import type { Citation } from '../../../knowledge/answer-types.ts';
import {
  formatSourcesLine,
  renderCodeBlock,
  seriesNote,
  withoutTrailingNewlines,
} from '../../chat/render-text.ts';
import { inlineParts, type RichMessage } from '../../chat/rich-message.ts';

export interface MatrixText {
  body: string;
  html: string;
}

type Block =
  | { kind: 'text'; text: string }
  | { kind: 'code'; language: string; text: string }
  | { kind: 'sources'; sources: Citation[] };

/** Synapse refuses events over 65,536 bytes; body and HTML both count, plus the event's envelope. */
const MAX_TEXT_BYTES = 56_000;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Inline code (`x`) as <code>; everything else escaped. */
function inlineHtml(line: string): string {
  return inlineParts(line)
    .map((part) => (part.kind === 'code' ? `<code>${escapeHtml(part.text)}</code>` : escapeHtml(part.text)))
    .join('');
}

function blocksOf(message: RichMessage): Block[] {
  const blocks: Block[] = [];
  if (message.lead !== '') blocks.push({ kind: 'text', text: message.lead });
  if (message.code) blocks.push({ kind: 'code', ...message.code });
  if (message.details.length > 0) blocks.push({ kind: 'text', text: message.details.join('\n') });
  if (message.sources.length > 0) blocks.push({ kind: 'sources', sources: message.sources });
  return blocks;
}

function plainBlock(block: Block): string {
  if (block.kind === 'text') return block.text;
  if (block.kind === 'code') return renderCodeBlock(block);
  return formatSourcesLine(block.sources) ?? '';
}

function htmlBlock(block: Block): string {
  if (block.kind === 'text') return `<p>${block.text.split('\n').map(inlineHtml).join('<br>')}</p>`;
  if (block.kind === 'code') {
    const language = /^[\w+-]+$/.test(block.language) ? ` class="language-${block.language}"` : '';
    return `<pre><code${language}>${escapeHtml(withoutTrailingNewlines(block.text))}</code></pre>`;
  }
  const links = block.sources.map((source, index) => {
    return `[${index + 1}] <a href="${escapeHtml(source.url)}">${escapeHtml(source.title)}</a>${escapeHtml(seriesNote(source))}`;
  });
  return `<p>Sources: ${links.join(' · ')}</p>`;
}

function render(blocks: Block[]): MatrixText {
  return { body: blocks.map(plainBlock).join('\n'), html: blocks.map(htmlBlock).join('') };
}

const byteLength = (text: MatrixText) => Buffer.byteLength(text.body) + Buffer.byteLength(text.html);

/** Keeps the first lines of the code that fit, and says how many were left out. */
function trimCode(block: Block & { kind: 'code' }, overBytes: number): Block {
  const lines = block.text.split('\n');
  let dropped = 0;
  let removedBytes = 0;
  // Each code byte appears twice (body and HTML), escaped HTML counting for more: halving is conservative.
  while (lines.length > 1 && removedBytes < overBytes / 2 + 200) {
    removedBytes += Buffer.byteLength(lines.pop() ?? '') + 1;
    dropped += 1;
  }
  return { ...block, text: `${lines.join('\n')}\n[… ${dropped} more lines not shown]` };
}

export function renderMatrix(message: RichMessage): MatrixText {
  let blocks = blocksOf(message);
  let text = render(blocks);
  for (let attempt = 0; attempt < 4 && byteLength(text) > MAX_TEXT_BYTES; attempt += 1) {
    const over = byteLength(text) - MAX_TEXT_BYTES;
    blocks = blocks.map((block) => (block.kind === 'code' ? trimCode(block, over) : block));
    text = render(blocks);
  }
  return text;
}

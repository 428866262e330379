/** The intermediate form every parser produces, and how it becomes Passages. */
import type { Passage, PassageKind, TreeInfo } from '../passage.ts';

/** What ingesting one tree gives. */
export interface IngestedTree {
  tree: TreeInfo;
  passages: Passage[];
}

/** A source line and its 1-based number in the file it came from (kept through dedenting). */
export interface Line {
  text: string;
  no: number;
}

/** A run of prose or one code block, with the lines it spans. */
export interface Block {
  kind: 'text' | 'code';
  value: string;
  lines: [number, number];
}

/** A heading and the content directly under it. */
export interface Section {
  /** Heading path, document title first. */
  titles: string[];
  anchor: string | null;
  /** The heading's line, so a passage's lines include its title. */
  headingLine: number;
  blocks: Block[];
}

export interface Chunk {
  text: string;
  code: string[];
  lines: [number, number];
}

/** Sections longer than this many words of prose are split, so one passage stays quotable. */
export const MAX_CHUNK_WORDS = 400;

export function toLines(text: string, firstLineNo = 1): Line[] {
  return text.split(/\r?\n/).map((line, index) => ({ text: line, no: firstLineNo + index }));
}

function countWords(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
}

/**
 * Splits blocks into chunks of at most about `maxWords` words of prose, at block boundaries; code stays
 * with the prose it follows. The first chunk starts at `firstLine` (the heading). No blocks, no chunks.
 */
export function chunkBlocks(blocks: Block[], firstLine: number, maxWords = MAX_CHUNK_WORDS): Chunk[] {
  const chunks: Chunk[] = [];
  let current: { text: string[]; code: string[]; first: number; last: number; words: number } | null = null;
  for (const block of blocks.flatMap((whole) => splitOversized(whole, maxWords))) {
    const words = block.kind === 'text' ? countWords(block.value) : 0;
    if (current && current.words > 0 && words > 0 && current.words + words > maxWords) {
      chunks.push(finishChunk(current));
      current = null;
    }
    current ??= {
      text: [],
      code: [],
      first: chunks.length === 0 ? firstLine : block.lines[0],
      last: 0,
      words: 0,
    };
    (block.kind === 'text' ? current.text : current.code).push(block.value);
    current.last = Math.max(current.last, block.lines[1]);
    current.words += words;
  }
  if (current) chunks.push(finishChunk(current));
  return chunks;
}

/** A prose block longer than a chunk (a big table, a huge paragraph) split at line, then sentence, ends. */
function splitOversized(block: Block, maxWords: number): Block[] {
  if (block.kind === 'code' || countWords(block.value) <= maxWords) return [block];
  const units = block.value.split('\n').flatMap((line) =>
    (countWords(line) > maxWords ? line.split(/(?<=[.!?;])\s+/) : [line]).map((text, index) => ({
      text,
      startsLine: index === 0,
    })),
  );
  const pieces: Block[] = [];
  let piece = '';
  let words = 0;
  for (const unit of units) {
    const unitWords = countWords(unit.text);
    if (words > 0 && words + unitWords > maxWords) {
      pieces.push({ ...block, value: piece });
      piece = '';
      words = 0;
    }
    piece += piece === '' ? unit.text : `${unit.startsLine ? '\n' : ' '}${unit.text}`;
    words += unitWords;
  }
  if (piece !== '') pieces.push({ ...block, value: piece });
  return pieces;
}

function finishChunk(draft: { text: string[]; code: string[]; first: number; last: number }): Chunk {
  return {
    text: draft.text.join('\n\n'),
    code: draft.code,
    lines: [draft.first, Math.max(draft.first, draft.last)],
  };
}

/** Hands out passage ids, suffixing `~2`, `~3`... when a base id repeats (chunks, duplicate names). */
export type IdAllocator = (base: string) => string;

export function createIdAllocator(): IdAllocator {
  const seen = new Map<string, number>();
  return (base) => {
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return count === 1 ? base : `${base}~${count}`;
  };
}

/** Where passages of one file go: its tree, its path relative to the tree root, the tree's id allocator. */
export interface FileOrigin {
  tree: TreeInfo;
  path: string;
  nextId: IdAllocator;
}

export interface PassageHead {
  sectionPath: string[];
  anchor: string | null;
  kind: PassageKind;
  /** What follows `#` in the id: the anchor, or a name where there is none. */
  key: string;
  /** The link for a chunk starting at this line. */
  url: (firstLine: number) => string;
}

export function passagesFromChunks(origin: FileOrigin, head: PassageHead, chunks: Chunk[]): Passage[] {
  return chunks.map((chunk) => ({
    id: origin.nextId(`${origin.tree.id}:${origin.path}#${head.key}`),
    tree: origin.tree.id,
    kernelVersion: origin.tree.kernelVersion,
    path: origin.path,
    sectionPath: head.sectionPath,
    anchor: head.anchor,
    kind: head.kind,
    text: chunk.text,
    code: chunk.code,
    url: head.url(chunk.lines[0]),
    lines: chunk.lines,
  }));
}

/** One passage per chunk of every section (sections without content give none). */
export function sectionPassages(
  origin: FileOrigin,
  sections: Section[],
  kind: PassageKind,
  url: (anchor: string | null, firstLine: number) => string,
): Passage[] {
  return sections.flatMap((section) =>
    passagesFromChunks(
      origin,
      {
        sectionPath: section.titles,
        anchor: section.anchor,
        kind,
        key: section.anchor ?? `L${section.headingLine}`,
        url: (line) => url(section.anchor, line),
      },
      chunkBlocks(section.blocks, section.headingLine),
    ),
  );
}

/** Removes the common leading whitespace, keeping tabs when every line shares the same prefix. */
export function dedent(lines: Line[]): Line[] {
  const nonBlank = lines.filter((line) => line.text.trim() !== '');
  const first = nonBlank[0];
  if (!first) return lines.map((line) => ({ ...line, text: '' }));
  let prefix = leadingWhitespace(first.text);
  for (const line of nonBlank) {
    const own = leadingWhitespace(line.text);
    let same = 0;
    while (same < prefix.length && same < own.length && prefix[same] === own[same]) same++;
    prefix = prefix.slice(0, same);
  }
  const columns = Math.min(...nonBlank.map((line) => indentWidth(line.text)));
  if (indentWidth(prefix) === columns) {
    return lines.map((line) => ({
      ...line,
      text: line.text.trim() === '' ? '' : line.text.slice(prefix.length),
    }));
  }
  return lines.map((line) => ({
    ...line,
    text: line.text.trim() === '' ? '' : expandLeadingTabs(line.text).slice(columns),
  }));
}

function leadingWhitespace(text: string): string {
  return /^[ \t]*/.exec(text)?.[0] ?? '';
}

/** Indentation in columns, tabs to the next multiple of 8 (as docutils and the kernel count them). */
export function indentWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    if (char === ' ') width++;
    else if (char === '\t') width = width - (width % 8) + 8;
    else break;
  }
  return width;
}

function expandLeadingTabs(text: string): string {
  const whitespace = leadingWhitespace(text);
  return ' '.repeat(indentWidth(whitespace)) + text.slice(whitespace.length);
}

/** Code block text: dedented, without leading or trailing blank lines. */
export function codeText(lines: Line[]): string {
  const texts = dedent(lines).map((line) => line.text.trimEnd());
  while (texts.length > 0 && texts[0] === '') texts.shift();
  while (texts.length > 0 && texts[texts.length - 1] === '') texts.pop();
  return texts.join('\n');
}

/** Lines of a paragraph as prose: list items and table rows keep their own line, the rest is joined. */
export function joinParagraph(lines: string[]): string {
  const out: string[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    const previous = out.length - 1;
    if (previous < 0 || /^([-*+•]\s|\d+[.)]\s|#\.\s|\|)/.test(line)) out.push(line);
    else out[previous] = `${out[previous]} ${line}`;
  }
  return out.join('\n');
}

/**
 * Applies `transform` to text with inline code spans (the `code` group of `codeSpan`) swapped for
 * placeholders, then puts the spans back rendered as `code`, so markup cleanup never touches code.
 */
export function withCodeSpansProtected(
  text: string,
  codeSpan: RegExp,
  transform: (plain: string) => string,
): string {
  const spans: string[] = [];
  const protectedText = text.replace(codeSpan, (...args: unknown[]) => {
    const groups = args.at(-1) as { code: string };
    spans.push(groups.code.trim());
    return `\uE000${spans.length - 1}\uE001`;
  });
  return transform(protectedText).replace(/\uE000(\d+)\uE001/g, (_match, index: string) => {
    return `\`${spans[Number(index)] ?? ''}\``;
  });
}

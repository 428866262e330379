/** A small line-based Markdown reader: ATX and setext headings, prose, fenced code. */
import {
  type Block,
  codeText,
  joinParagraph,
  type Line,
  type Section,
  toLines,
  withCodeSpansProtected,
} from './sections.ts';

export interface MarkdownDocument {
  /** The first H1, or null when the page has none. */
  title: string | null;
  /** Section titles start with the page title (or `fallbackTitle`). */
  sections: Section[];
}

interface Heading {
  level: number;
  text: string;
  /** Line index (0-based) where the heading starts, and the first index after it. */
  start: number;
  end: number;
}

const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const FENCE_OPEN = /^([ \t]*)(`{3,}(?=[^`]*$)|~{3,})/;
const THEMATIC_BREAK = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;

export function parseMarkdown(source: string, fallbackTitle: string): MarkdownDocument {
  const lines = withoutHtmlComments(toLines(source));
  const bodyStart = frontMatterEnd(lines);
  const headings = findHeadings(lines, bodyStart);
  const firstH1 = headings.find((heading) => heading.level === 1);
  const pageTitle = firstH1 ? firstH1.text : fallbackTitle;
  const slugs = new SlugSet();
  const sections: Section[] = [];
  const stack: { level: number; text: string }[] = [];

  const preamble = markdownBlocks(lines.slice(bodyStart, headings[0]?.start ?? lines.length));
  if (preamble.length > 0) {
    sections.push({
      titles: [pageTitle],
      anchor: null,
      headingLine: preamble[0]!.lines[0],
      blocks: preamble,
    });
  }
  headings.forEach((heading, index) => {
    if (heading !== firstH1) {
      while (stack.length > 0 && stack[stack.length - 1]!.level >= heading.level) stack.pop();
      stack.push(heading);
    }
    sections.push({
      titles: [pageTitle, ...stack.map((entry) => entry.text)],
      anchor: slugs.claim(headingSlug(heading.text)),
      headingLine: lines[heading.start]!.no,
      blocks: markdownBlocks(lines.slice(heading.end, headings[index + 1]?.start ?? lines.length)),
    });
  });
  return { title: firstH1?.text ?? null, sections };
}

/** GitHub's and mdBook's heading ids: lowercase, spaces to '-', other punctuation dropped. */
export function headingSlug(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Repeated slugs get `-1`, `-2`... as on GitHub and in mdBook. */
class SlugSet {
  private readonly counts = new Map<string, number>();

  claim(slug: string): string {
    const count = this.counts.get(slug) ?? 0;
    this.counts.set(slug, count + 1);
    return count === 0 ? slug : `${slug}-${count}`;
  }
}

function frontMatterEnd(lines: Line[]): number {
  if (lines[0]?.text.trim() !== '---') return 0;
  const close = lines.findIndex((line, index) => index > 0 && /^(---|\.\.\.)\s*$/.test(line.text));
  return close < 0 ? 0 : close + 1;
}

/** Blanks out `<!-- ... -->`, keeping line numbers. */
function withoutHtmlComments(lines: Line[]): Line[] {
  let inComment = false;
  return lines.map((line) => {
    let text = '';
    let rest = line.text;
    while (rest !== '') {
      const marker = inComment ? rest.indexOf('-->') : rest.indexOf('<!--');
      if (marker < 0) {
        if (!inComment) text += rest;
        break;
      }
      if (!inComment) text += rest.slice(0, marker);
      rest = rest.slice(marker + (inComment ? 3 : 4));
      inComment = !inComment;
    }
    return text === line.text ? line : { ...line, text };
  });
}

function findHeadings(lines: Line[], from: number): Heading[] {
  const headings: Heading[] = [];
  let fence: string | null = null;
  for (let i = from; i < lines.length; i++) {
    const text = lines[i]!.text;
    if (fence !== null) {
      if (closesFence(text, fence)) fence = null;
      continue;
    }
    const open = FENCE_OPEN.exec(text);
    if (open) {
      fence = open[2]!;
      continue;
    }
    const atx = ATX_HEADING.exec(text);
    if (atx) {
      headings.push({ level: atx[1]!.length, text: inlineText(atx[2] ?? ''), start: i, end: i + 1 });
      continue;
    }
    const next = lines[i + 1]?.text ?? '';
    const previous = i > from ? lines[i - 1]!.text : '';
    const underline = /^ {0,3}(=+|-+)[ \t]*$/.exec(next);
    if (underline && isPlainParagraphLine(text) && previous.trim() === '') {
      headings.push({
        level: underline[1]!.startsWith('=') ? 1 : 2,
        text: inlineText(text),
        start: i,
        end: i + 2,
      });
      i++;
    }
  }
  return headings;
}

/** A one-line paragraph that a setext underline turns into a heading (not a list item, quote or table). */
function isPlainParagraphLine(text: string): boolean {
  return (
    text.trim() !== '' &&
    !/^ {4}/.test(text) &&
    !/^\s*([-*+>|]|\d+[.)])(\s|$)/.test(text) &&
    !THEMATIC_BREAK.test(text) &&
    !ATX_HEADING.test(text)
  );
}

function closesFence(text: string, fence: string): boolean {
  const trimmed = text.trim();
  return trimmed.length >= fence.length && trimmed === fence[0]!.repeat(trimmed.length);
}

/** Heading text as shown: markup removed, code without backticks. */
function inlineText(text: string): string {
  return cleanMarkdownInline(text).replace(/`/g, '').trim();
}

/** Prose and fenced code of body lines; headings met here (in doc comments) become prose lines. */
export function markdownBlocks(lines: Line[]): Block[] {
  const blocks: Block[] = [];
  let paragraph: Line[] = [];
  const flushParagraph = () => {
    const first = paragraph[0];
    const last = paragraph[paragraph.length - 1];
    if (first && last) {
      const prose = cleanMarkdownInline(joinParagraph(paragraph.map((line) => proseLine(line.text))))
        .split('\n')
        .map((row) => row.trim())
        .join('\n');
      if (prose.trim() !== '') blocks.push({ kind: 'text', value: prose, lines: [first.no, last.no] });
    }
    paragraph = [];
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const open = FENCE_OPEN.exec(line.text);
    if (open) {
      flushParagraph();
      let end = i + 1;
      while (end < lines.length && !closesFence(lines[end]!.text, open[2]!)) end++;
      const body = lines.slice(i + 1, end);
      const last = body[body.length - 1];
      if (last && body.some((bodyLine) => bodyLine.text.trim() !== '')) {
        blocks.push({ kind: 'code', value: codeText(body), lines: [body[0]!.no, last.no] });
      }
      i = end;
    } else if (line.text.trim() === '' || THEMATIC_BREAK.test(line.text)) {
      flushParagraph();
    } else if (/^ {0,3}\[[^\]]+\]:\s*\S/.test(line.text)) {
      // A link reference definition: the link text already carries the meaning.
    } else if (ATX_HEADING.test(line.text)) {
      flushParagraph();
      paragraph.push({ ...line, text: line.text.replace(/^\s*#+\s*|\s+#+\s*$/g, '') });
      flushParagraph();
    } else {
      paragraph.push(line);
    }
  }
  flushParagraph();
  return blocks;
}

/** Drops quote markers and table separator rows; table rows start their own line. */
function proseLine(text: string): string {
  const line = text.replace(/^\s*(>\s?)+/, '');
  if (/^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line)) return '';
  return line;
}

/** Inline Markdown to plain text: links keep their text, emphasis and HTML tags go, code stays `code`. */
function cleanMarkdownInline(text: string): string {
  return withCodeSpansProtected(text, /(`+)(?<code>[\s\S]*?[^`])\1(?!`)/g, (plain) =>
    plain
      .replace(/!\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)/g, '$1')
      .replace(/\[([^\]]+)\]\((?:[^()]|\([^()]*\))*\)/g, '$1')
      .replace(/\[([^\]]+)\]\[[^\]]*\]/g, '$1')
      .replace(/\[([^\]]+)\](?![(:[])/g, '$1')
      .replace(/<(https?:\/\/[^>\s]+)>/g, '$1')
      .replace(/<\/?[A-Za-z][^>]*>/g, '')
      .replace(/\*\*(\S(?:[^*]*?\S)?)\*\*/g, '$1')
      .replace(/(^|[\s("'])\*(\S(?:[^*]*?\S)?)\*(?=$|[\s)"'.,;:!?-])/g, '$1$2')
      .replace(/\\([\\`*_{}[\]()#+\-.!|<>])/g, '$1')
      .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_m, entity: string) => HTML_ENTITIES[entity] ?? ''),
  );
}

const HTML_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  '#39': "'",
  nbsp: ' ',
};

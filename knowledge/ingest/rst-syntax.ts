/**
 * A small line-based reStructuredText reader: section titles, prose and code blocks; enough for the
 * kernel's Documentation/ and fast on all of it. It does not try to be docutils.
 */
import {
  type Block,
  codeText,
  dedent,
  indentWidth,
  joinParagraph,
  type Line,
  type Section,
  toLines,
  withCodeSpansProtected,
} from './sections.ts';

export interface RstDocument {
  title: string | null;
  sections: Section[];
}

/** Directives whose content is code. */
const CODE_DIRECTIVES = new Set(['code-block', 'code', 'sourcecode', 'parsed-literal']);

/** Directives that carry no prose a reader would see inline (tables of contents, includes, images). */
const SKIPPED_DIRECTIVES = new Set([
  'toctree',
  'kernel-doc',
  'kernel-abi',
  'kernel-feat',
  'kernel-include',
  'maintainers-include',
  'include',
  'literalinclude',
  'image',
  'figure',
  'kernel-figure',
  'kernel-image',
  'kernel-render',
  'raw',
  'highlight',
  'tabularcolumns',
  'contents',
  'sectnum',
  'index',
  'cssclass',
]);

/** Directives whose arguments are not prose (`.. only:: html`). */
const ARGUMENTS_NOT_PROSE = new Set(['only', 'ifconfig', 'list-table', 'flat-table', 'csv-table']);

const ADORNMENT = /^([!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~])\1*[ \t]*$/;

interface Title {
  text: string;
  style: string;
  /** Line index (0-based) where the heading starts and the first index after it. */
  start: number;
  end: number;
}

/** `fallbackTitle` heads text that comes before any title. */
export function parseRst(source: string, fallbackTitle: string): RstDocument {
  const lines = toLines(source);
  const titles = findTitles(lines);
  const levels: string[] = [];
  const path: string[] = [];
  const anchors = new AnchorSet();
  const documentTitle = titles[0] ? plainTitle(titles[0].text) : null;
  const sections: Section[] = [];

  const preamble = processBody(lines.slice(0, titles[0]?.start ?? lines.length));
  if (preamble.length > 0) {
    sections.push({
      titles: [documentTitle ?? fallbackTitle],
      anchor: null,
      headingLine: 1,
      blocks: preamble,
    });
  }
  titles.forEach((title, index) => {
    if (!levels.includes(title.style)) levels.push(title.style);
    const level = levels.indexOf(title.style);
    const text = plainTitle(title.text);
    path.splice(Math.min(level, path.length), Infinity, text);
    const bodyEnd = titles[index + 1]?.start ?? lines.length;
    sections.push({
      titles: [...path],
      anchor: anchors.claim(docutilsId(text)),
      headingLine: (lines[title.start]?.no ?? 0) + (title.end - title.start === 3 ? 1 : 0),
      blocks: processBody(lines.slice(title.end, bodyEnd)),
    });
  });
  return { title: documentTitle, sections };
}

/** Section titles: text with an underline, or with an overline and a matching underline. */
function findTitles(lines: Line[]): Title[] {
  const titles: Title[] = [];
  for (let i = 0; i < lines.length; i++) {
    const current = lines[i]!.text;
    const next = lines[i + 1]?.text;
    if (next === undefined) break;
    const over = adornmentChar(current);
    const under = lines[i + 2] ? adornmentChar(lines[i + 2]!.text) : null;
    if (over && under === over && isTitleText(next)) {
      titles.push({ text: next.trim(), style: `over${over}`, start: i, end: i + 3 });
      i += 2;
      continue;
    }
    const underline = adornmentChar(next);
    if (
      underline &&
      isTitleText(current) &&
      !/^\s/.test(current) &&
      (next.trim().length >= 4 || next.trim().length >= current.trim().length)
    ) {
      titles.push({ text: current.trim(), style: `under${underline}`, start: i, end: i + 2 });
      i += 1;
    }
  }
  return titles;
}

function adornmentChar(text: string): string | null {
  return ADORNMENT.exec(text)?.[1] ?? null;
}

function isTitleText(text: string): boolean {
  return text.trim() !== '' && adornmentChar(text) === null && !text.trimStart().startsWith('..');
}

/** docutils' `make_id`: lowercase ASCII, runs of other characters become '-', no leading digits or '-'. */
export function docutilsId(title: string): string {
  return title
    .toLowerCase()
    .replace(/[ßæœøđłħı]/g, (char) => TRANSLITERATIONS[char] ?? '')
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[-0-9]+|-+$/g, '');
}

const TRANSLITERATIONS: Record<string, string> = {
  ß: 'sz',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  đ: 'd',
  ł: 'l',
  ħ: 'h',
  ı: 'i',
};

/** Section ids are unique in a page; docutils numbers the repeats `id1`, `id2`... */
class AnchorSet {
  private readonly used = new Set<string>();
  private counter = 0;

  claim(id: string): string {
    let anchor = id;
    while (anchor === '' || this.used.has(anchor)) anchor = `id${++this.counter}`;
    this.used.add(anchor);
    return anchor;
  }
}

function plainTitle(text: string): string {
  return cleanRstInline(text).replace(/`/g, '');
}

/** Prose and code blocks of a run of body lines (recursing into directive content). */
function processBody(lines: Line[]): Block[] {
  const blocks: Block[] = [];
  let paragraph: Line[] = [];

  /** Emits the paragraph; returns the indentation a literal block after it must exceed, if it asked for one. */
  const flushParagraph = (): number | null => {
    const last = paragraph[paragraph.length - 1];
    const first = paragraph[0];
    if (!last || !first) return null;
    let literalIndent: number | null = null;
    const texts = paragraph.map((line) => line.text);
    if (/::\s*$/.test(last.text)) {
      literalIndent = textIndent(last.text);
      texts[texts.length - 1] = last.text.replace(/(^|\s)::\s*$|::\s*$/, (_m, space: string | undefined) =>
        space === undefined ? ':' : '',
      );
    }
    const table = texts.some(isTableBorder);
    const rows = texts.filter((text) => !isTableBorder(text)).map((text) => (table ? tableRow(text) : text));
    const prose = cleanRstInline(joinParagraph(rows));
    if (prose.trim() !== '') blocks.push({ kind: 'text', value: prose, lines: [first.no, last.no] });
    paragraph = [];
    return literalIndent;
  };

  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const trimmed = line.text.trim();
    if (trimmed === '') {
      const literalIndent = flushParagraph();
      i = literalIndent === null ? i + 1 : takeLiteralBlock(lines, i + 1, literalIndent, blocks);
      continue;
    }
    if (trimmed === '..' || trimmed.startsWith('.. ')) {
      flushParagraph();
      const indent = indentWidth(line.text);
      let end = i + 1;
      while (end < lines.length && (lines[end]!.text.trim() === '' || indentWidth(lines[end]!.text) > indent))
        end++;
      blocks.push(...explicitMarkup(lines.slice(i, end)));
      i = end;
      continue;
    }
    paragraph.push(line);
    i++;
  }
  flushParagraph();
  return blocks;
}

/** After `::` and blank lines, the block indented deeper than `indent` is literal; returns where it ends. */
function takeLiteralBlock(lines: Line[], from: number, indent: number, blocks: Block[]): number {
  let start = from;
  while (start < lines.length && lines[start]!.text.trim() === '') start++;
  let end = start;
  while (end < lines.length && (lines[end]!.text.trim() === '' || indentWidth(lines[end]!.text) > indent))
    end++;
  const body = lines.slice(start, end);
  pushCode(body, blocks);
  return end;
}

function pushCode(body: Line[], blocks: Block[]): void {
  const withText = body.filter((line) => line.text.trim() !== '');
  const first = withText[0];
  const last = withText[withText.length - 1];
  if (first && last) blocks.push({ kind: 'code', value: codeText(body), lines: [first.no, last.no] });
}

/** `..` blocks: directives, comments, targets, substitution definitions, footnotes. */
function explicitMarkup(block: Line[]): Block[] {
  const head = block[0]!;
  const rest = head.text.trim().slice(2).trim();
  const content = dedent(block.slice(1));
  if (rest.startsWith('[')) {
    const text = rest.replace(/^\[[^\]]*\]\s*/, '');
    return processBody([{ text, no: head.no }, ...content]);
  }
  const directive = /^([A-Za-z][\w:.+-]*)::(?:\s+(.*))?$/.exec(rest);
  if (!directive) return []; // comments (including SPDX lines), `.. _targets:`, `.. |substitutions|`
  const name = directive[1]!.toLowerCase();
  const argument = directive[2]?.trim() ?? '';
  if (SKIPPED_DIRECTIVES.has(name)) return [];
  const optionsEnd = content.findIndex((line) => !/^:[\w-]+:/.test(line.text));
  const body = optionsEnd < 0 ? [] : content.slice(optionsEnd);
  if (CODE_DIRECTIVES.has(name)) {
    const blocks: Block[] = [];
    pushCode(body, blocks);
    return blocks;
  }
  const heading: Block[] =
    argument !== '' && !ARGUMENTS_NOT_PROSE.has(name)
      ? [{ kind: 'text', value: cleanRstInline(argument), lines: [head.no, head.no] }]
      : [];
  return [...heading, ...processBody(body)];
}

/** Where a paragraph's text starts, counting a list marker as indentation. */
function textIndent(text: string): number {
  const marker = /^[ \t]*(?:[-*+•]|\d+[.)]|#\.|\(?[A-Za-z0-9]\))[ \t]+/.exec(text);
  return indentWidth(text) + (marker ? marker[0].trimStart().length : 0);
}

function isTableBorder(text: string): boolean {
  return /^\s*[-=+|:\s]+$/.test(text) && /[-=]{3}/.test(text);
}

/** A table row as one line, cells separated by ' | ' (grid rows by their bars, simple ones by wide gaps). */
function tableRow(text: string): string {
  const cells = text
    .trim()
    .replace(/^\|\s*|\s*\|$/g, '')
    .split(/\s*\|\s*|\s{2,}/);
  return `|${cells.join(' | ')}`;
}

/** Inline markup to plain text: roles, links, emphasis, footnote references; ``literals`` become `literals`. */
function cleanRstInline(text: string): string {
  return withCodeSpansProtected(text, /``(?<code>[^`]+?)``/g, (plain) =>
    plain
      .replace(/:[A-Za-z][\w+.-]*(?::[A-Za-z][\w+.-]*)*:`([^`]+)`/g, (_m, inner: string) => roleText(inner))
      .replace(/`([^`<]*?)\s*<[^<>`]+>`__?/g, '$1')
      .replace(/`([^`]+)`__?/g, '$1')
      .replace(/\[(?:#[\w-]*|\*|\d+)\]_/g, '')
      .replace(/\*\*(\S(?:[^*]*?\S)?)\*\*/g, '$1')
      .replace(/(^|[\s("'])\*(\S(?:[^*]*?\S)?)\*(?=$|[\s)"'.,;:!?-])/g, '$1$2')
      .replace(/\|(\w(?:[\w -]*\w)?)\|/g, '$1')
      .replace(/\\(.)/g, '$1')
      .replace(/^\|/gm, ''),
  );
}

/** `:ref:`Title <label>`` shows Title; `:doc:`path`` and `:c:func:`name`` show their target. */
function roleText(inner: string): string {
  const explicit = /^([\s\S]*?)\s*<([^<>]+)>$/.exec(inner.trim());
  const shown = explicit ? explicit[1] || explicit[2]! : inner.trim();
  return shown.replace(/^[~!]/, '');
}

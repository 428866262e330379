/**
 * Doc comments of a Rust source file and the items they document, found line by line with a rough
 * brace count (strings, char literals and `//` comments are ignored; enough for kernel code).
 */
import { type Line, toLines } from './sections.ts';

export interface RustDocItem {
  /** As a reader would search for it: `Arc::new`, `container_of!`, `module!`, `#[vtable]`. */
  name: string;
  /** The item's declaration line(s), without its body. */
  signature: string;
  /** The `///` lines without their marker. */
  docs: Line[];
  lines: [number, number];
}

export interface RustPublicItem {
  /** E.g. `module net`, `macro module!`, `function file_from_location`. */
  description: string;
  /** The `#[cfg(...)]` condition it is compiled under, if any. */
  cfg: string | null;
  line: number;
}

/** An item the file declares, documented or not: what "since which version does X exist?" looks up. */
export interface RustDeclaration {
  /** As RustDocItem names it, qualified by its owner: `KVec`, `Arc::new`, `module!`. */
  name: string;
  /** The declaration's first line, trimmed. */
  head: string;
  line: number;
}

export interface RustSourceDocs {
  /** The `//!` lines without their marker. */
  moduleDocs: Line[];
  items: RustDocItem[];
  /** Public items at the top level of the file. */
  publicItems: RustPublicItem[];
  /** Every item but impl blocks and imports. */
  declarations: RustDeclaration[];
}

const ITEM_HEAD =
  /^(?:pub(?:\([^)]*\))?\s+)?(?:(?:const|async|unsafe|safe|extern(?:\s+"[^"]*")?|default)\s+)*(fn|struct|enum|union|trait|type|const|static|mod|impl|use|macro_rules!)(?=[\s<!{(]|$)/;
const BLOCK_ITEMS = new Set(['fn', 'struct', 'enum', 'union', 'trait', 'mod', 'impl', 'macro_rules!']);
const KIND_WORDS: Record<string, string> = {
  fn: 'function',
  mod: 'module',
  const: 'constant',
  static: 'static',
  type: 'type',
  use: 're-export',
  struct: 'struct',
  enum: 'enum',
  union: 'union',
  trait: 'trait',
  'macro_rules!': 'macro',
};

export function parseRustSource(source: string): RustSourceDocs {
  const lines = toLines(source);
  const code = codeOfLines(lines);
  const result: RustSourceDocs = { moduleDocs: [], items: [], publicItems: [], declarations: [] };
  const owners: { name: string; depth: number }[] = [];
  let depth = 0;
  let docs: Line[] = [];
  let attributes: string[] = [];

  for (let i = 0; i < lines.length; ) {
    const line = lines[i]!;
    const trimmed = line.text.trim();
    if (code[i]!.startsInString) {
      // Inside a multi-line string, e.g. Rust code a proc macro generates: not this file's docs.
      depth += braceDelta(code[i]!.code);
      docs = [];
      i++;
      continue;
    }
    const inner = /^\/\/! ?(.*)$/.exec(trimmed);
    const outer = /^\/\/\/(?!\/) ?(.*)$/.exec(trimmed);
    if (inner || outer) {
      (inner ? result.moduleDocs : docs).push({ text: (inner ?? outer)![1]!, no: line.no });
      i++;
      continue;
    }
    if (trimmed === '' || trimmed.startsWith('//')) {
      i++;
      continue;
    }
    if (trimmed.startsWith('#[') || trimmed.startsWith('#![')) {
      const end = bracketEnd(code, i);
      if (trimmed.startsWith('#[')) {
        attributes.push(
          lines
            .slice(i, end + 1)
            .map((attributeLine) => attributeLine.text.trim())
            .join(' '),
        );
      }
      i = end + 1;
      continue;
    }

    const head = ITEM_HEAD.exec(trimmed);
    const isItem = head !== null || docs.length > 0;
    const end = isItem ? signatureEnd(code, i, head?.[1] ?? null) : i;
    const depthBefore = depth;
    for (let k = i; k <= end; k++) depth += braceDelta(code[k]!.code);
    if (isItem) {
      const declaration = lines.slice(i, end + 1);
      const flat = code
        .slice(i, end + 1)
        .map((scanned) => scanned.code)
        .join(' ');
      const name = itemName(flat, attributes);
      const owner = owners[owners.length - 1]?.name;
      const qualified = owner ? `${owner}::${name}` : name;
      if (head && head[1] !== 'impl' && head[1] !== 'use')
        result.declarations.push({ name: qualified, head: trimmed, line: line.no });
      if (docs.length > 0) {
        result.items.push({
          name: qualified,
          signature: signatureText(declaration),
          docs,
          lines: [docs[0]!.no, lines[end]!.no],
        });
      }
      const publicItem = depthBefore === 0 ? describePublicItem(flat, name, attributes, line.no) : null;
      if (publicItem) result.publicItems.push(publicItem);
      const block = blockOwnerName(flat);
      if (block && depth > depthBefore) owners.push({ name: block, depth: depthBefore });
    }
    while (owners.length > 0 && owners[owners.length - 1]!.depth >= depth) owners.pop();
    docs = [];
    attributes = [];
    i = end + 1;
  }
  return result;
}

interface ScannedLine {
  /** The line with string contents, char literals and `//` comments removed. */
  code: string;
  /** The line starts inside a string literal opened on an earlier line. */
  startsInString: boolean;
}

/** Strips what braces and brackets in strings and comments would confuse; strings may span lines. */
function codeOfLines(lines: Line[]): ScannedLine[] {
  let inString = false;
  return lines.map(({ text }) => {
    const startsInString = inString;
    let code = '';
    for (let i = 0; i < text.length; i++) {
      const char = text[i]!;
      if (inString) {
        if (char === '\\') i++;
        else if (char === '"') {
          inString = false;
          code += '"';
        }
        continue;
      }
      if (char === '/' && text[i + 1] === '/') break;
      const charLiteral = char === "'" ? /^'(?:\\.|[^\\'])'/.exec(text.slice(i)) : null;
      if (charLiteral) i += charLiteral[0].length - 1;
      else {
        if (char === '"') inString = true;
        code += char;
      }
    }
    return { code, startsInString };
  });
}

function braceDelta(code: string): number {
  let delta = 0;
  for (const char of code) {
    if (char === '{') delta++;
    else if (char === '}') delta--;
  }
  return delta;
}

/** The last line of an attribute that may span lines. */
function bracketEnd(code: ScannedLine[], start: number): number {
  let balance = 0;
  for (let k = start; k < code.length; k++) {
    for (const char of code[k]!.code) {
      if (char === '[') balance++;
      else if (char === ']') balance--;
    }
    if (balance <= 0) return k;
  }
  return code.length - 1;
}

/**
 * The last line of a declaration: where its body opens or it ends with `;` (a `use` list may span lines).
 * Fields and variants also end at a `,`; block items (fn, impl...) may have `,` in a multi-line where
 * clause, so they wait for `{`.
 */
function signatureEnd(code: ScannedLine[], start: number, keyword: string | null): number {
  const endsAtComma = keyword === null || !BLOCK_ITEMS.has(keyword);
  let parens = 0;
  const last = Math.min(code.length - 1, start + (keyword === 'use' ? 200 : 15));
  for (let k = start; k <= last; k++) {
    const text = code[k]!.code;
    for (const char of text) {
      if (char === '(' || char === '[') parens++;
      else if (char === ')' || char === ']') parens--;
    }
    if (keyword === 'use' ? text.includes(';') : parens <= 0 && endsDeclaration(text, endsAtComma)) return k;
  }
  return start;
}

function endsDeclaration(text: string, endsAtComma: boolean): boolean {
  return text.includes('{') || text.includes(';') || (endsAtComma && text.trimEnd().endsWith(','));
}

/** The declaration as written, dedented, cut before its body. */
function signatureText(declaration: Line[]): string {
  const indent = Math.min(...declaration.map((line) => /^\s*/.exec(line.text)![0].length));
  const text = declaration.map((line) => line.text.slice(indent).trimEnd()).join('\n');
  const body = text.indexOf('{');
  return (body < 0 ? text : text.slice(0, body)).trimEnd();
}

function itemName(flat: string, attributes: string[]): string {
  const declaration = flat.trim();
  const head = ITEM_HEAD.exec(declaration);
  if (!head) {
    // A field, a variant, or a macro invocation that documents what it generates.
    const field = /^(?:pub(?:\([^)]*\))?\s+)?(?:r#)?([A-Za-z_]\w*)\s*(?:[:(,={]|$)/.exec(declaration);
    return field ? field[1]! : (/^[^{(]*/.exec(declaration)?.[0] ?? declaration).trim().slice(0, 60);
  }
  const rest = declaration.slice(head[0].length).trim();
  const identifier = /^(?:r#)?([A-Za-z_]\w*)/.exec(rest)?.[1] ?? rest;
  switch (head[1]) {
    case 'macro_rules!':
      return `${identifier}!`;
    case 'impl':
      return `impl ${withoutLeadingGenerics(rest).replace(/\s*\{.*$/, '')}`.trim();
    case 'use':
      return rest
        .replace(/;.*$/, '')
        .replace(/\s+/g, ' ')
        .replace(/\{\s*/g, '{')
        .replace(/,?\s*\}/g, '}');
    case 'fn':
      return procMacroName(identifier, attributes) ?? identifier;
    default:
      return identifier;
  }
}

/** Proc macros are used as `name!`, `#[name]` or `#[derive(Name)]`, not called by their function name. */
function procMacroName(identifier: string, attributes: string[]): string | null {
  for (const attribute of attributes) {
    if (/^#\[proc_macro\]$/.test(attribute)) return `${identifier}!`;
    if (/^#\[proc_macro_attribute\]$/.test(attribute)) return `#[${identifier}]`;
    const derive = /^#\[proc_macro_derive\(\s*(\w+)/.exec(attribute);
    if (derive) return `#[derive(${derive[1]})]`;
  }
  return null;
}

function withoutLeadingGenerics(text: string): string {
  if (!text.startsWith('<')) return text;
  let depth = 0;
  for (let k = 0; k < text.length; k++) {
    if (text[k] === '<') depth++;
    else if (text[k] === '>') depth--;
    if (depth === 0) return text.slice(k + 1).trim();
  }
  return text;
}

/** The name items inside a block are qualified with: the type of an impl, or the trait, struct, module... */
function blockOwnerName(flat: string): string | null {
  const declaration = flat.trim();
  const head = ITEM_HEAD.exec(declaration);
  if (!head || !['impl', 'trait', 'struct', 'enum', 'union', 'mod'].includes(head[1]!)) return null;
  let rest = declaration.slice(head[0].length).trim();
  if (head[1] === 'impl') {
    rest = withoutLeadingGenerics(rest);
    const forType = /\sfor\s+(.*)$/.exec(rest);
    if (forType) rest = forType[1]!;
    const path = /^[&\s]*(?:dyn\s+)?([\w:]+)/.exec(rest)?.[1] ?? '';
    return path.split('::').pop() || null;
  }
  return /^(?:r#)?([A-Za-z_]\w*)/.exec(rest)?.[1] ?? null;
}

function describePublicItem(
  flat: string,
  name: string,
  attributes: string[],
  line: number,
): RustPublicItem | null {
  const declaration = flat.trim();
  const head = ITEM_HEAD.exec(declaration);
  if (!head || attributes.some((attribute) => /^#\[doc\(hidden\)\]$/.test(attribute))) return null;
  const exported = head[1] === 'macro_rules!' && attributes.includes('#[macro_export]');
  if (!/^pub\s/.test(declaration) && !exported) return null;
  const cfg = attributes.map((attribute) => /^#\[cfg\((.*)\)\]$/.exec(attribute)?.[1]).find(Boolean) ?? null;
  return { description: `${publicKind(head[1]!, name)} ${name}`, cfg, line };
}

function publicKind(keyword: string, name: string): string {
  if (keyword !== 'fn') return KIND_WORDS[keyword] ?? keyword;
  if (name.endsWith('!')) return 'macro';
  if (name.startsWith('#[derive')) return 'derive macro';
  return name.startsWith('#[') ? 'attribute macro' : 'function';
}

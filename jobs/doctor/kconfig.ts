/**
 * Just enough Kconfig for the .config doctor: the entries of a tree's Kconfig files (type, prompt,
 * `depends on`, `select`, `def_bool`), their dependency expressions as trees, a .config parser, and
 * tristate evaluation that names the leaf terms keeping an expression from being satisfied.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pasteLines } from './paste-lines.ts';

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Expr =
  | { kind: 'symbol'; name: string }
  | { kind: 'literal'; value: string }
  | { kind: 'not'; operand: Expr }
  | { kind: 'and' | 'or'; left: Expr; right: Expr }
  | { kind: 'compare'; op: CompareOp; left: Expr; right: Expr };

export type Tristate = 0 | 1 | 2;

/** Symbol name (without CONFIG_) -> value as written: y, m, n, a string's text, a number. */
export type ConfigValues = ReadonlyMap<string, string>;

export type ExprParse = { ok: true; expr: Expr } | { ok: false; error: string };

// ---- expressions ----

type Token = { type: 'word' | 'literal' | 'op'; text: string };

function tokenize(text: string): Token[] | string {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const op = /^(&&|\|\||!=|<=|>=|[!()=<>])/.exec(rest);
    const word = /^[A-Za-z0-9_.+-]+/.exec(rest);
    if (op) {
      tokens.push({ type: 'op', text: op[0] });
      i += op[0].length;
    } else if (word) {
      tokens.push({ type: 'word', text: word[0] });
      i += word[0].length;
    } else if (rest[0] === '"' || rest[0] === "'") {
      const end = rest.indexOf(rest[0], 1);
      if (end < 0) return `unterminated string in "${text}"`;
      tokens.push({ type: 'literal', text: rest.slice(1, end) });
      i += end + 1;
    } else if (rest.startsWith('$(')) {
      // A preprocessor macro ($(success,...)): opaque text, its value is only known to the real Kconfig.
      let depth = 0;
      let end = 0;
      for (; end < rest.length; end++) {
        if (rest[end] === '(') depth++;
        if (rest[end] === ')' && --depth === 0) break;
      }
      tokens.push({ type: 'literal', text: rest.slice(0, end + 1) });
      i += end + 1;
    } else {
      return `unexpected "${rest[0]}" in "${text}"`;
    }
  }
  return tokens;
}

/** Kconfig's grammar, loosest first: `||`, `&&`, `!`, comparison, `( )` and symbols. */
export function parseExpr(text: string): ExprParse {
  const tokens = tokenize(text);
  if (typeof tokens === 'string') return { ok: false, error: tokens };
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (why: string): never => {
    throw new SyntaxError(`${why} in "${text}"`);
  };
  const binary = (kind: 'and' | 'or', op: string, next: () => Expr) => (): Expr => {
    let left = next();
    while (peek()?.type === 'op' && peek()?.text === op) {
      pos++;
      left = { kind, left, right: next() };
    }
    return left;
  };
  const primary = (): Expr => {
    const token = tokens[pos++] ?? fail('expression ends early');
    if (token.type === 'op' && token.text === '!') return { kind: 'not', operand: primary() };
    if (token.type === 'op' && token.text === '(') {
      const inner = or();
      if (tokens[pos++]?.text !== ')') fail('missing ")"');
      return inner;
    }
    if (token.type === 'op') return fail(`unexpected "${token.text}"`);
    const left: Expr =
      token.type === 'word' ? { kind: 'symbol', name: token.text } : { kind: 'literal', value: token.text };
    const next = peek();
    if (next?.type === 'op' && ['=', '!=', '<', '<=', '>', '>='].includes(next.text)) {
      pos++;
      const right = tokens[pos++] ?? fail('comparison without right side');
      if (right.type === 'op') fail(`unexpected "${right.text}"`);
      return {
        kind: 'compare',
        op: next.text as CompareOp,
        left,
        right:
          right.type === 'word'
            ? { kind: 'symbol', name: right.text }
            : { kind: 'literal', value: right.text },
      };
    }
    return left;
  };
  const and = binary('and', '&&', primary);
  const or = binary('or', '||', and);
  try {
    const expr = or();
    if (pos < tokens.length) fail(`unexpected "${tokens[pos]?.text}"`);
    return { ok: true, expr };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

const PRECEDENCE = { or: 1, and: 2, compare: 3, not: 4, symbol: 5, literal: 5 } as const;

export function formatExpr(expr: Expr, parent = 0): string {
  const own = PRECEDENCE[expr.kind];
  let text: string;
  switch (expr.kind) {
    case 'symbol':
      return expr.name;
    case 'literal':
      return expr.value.startsWith('$(') ? expr.value : `"${expr.value}"`;
    case 'not':
      return `!${formatExpr(expr.operand, own)}`;
    case 'compare':
      text = `${formatExpr(expr.left, own)}${expr.op}${formatExpr(expr.right, own)}`;
      break;
    default:
      text = `${formatExpr(expr.left, own)} ${expr.kind === 'and' ? '&&' : '||'} ${formatExpr(expr.right, own)}`;
  }
  return own < parent ? `(${text})` : text;
}

// ---- evaluation ----

const CONSTANTS: Record<string, Tristate> = { y: 2, m: 1, n: 0 };

/** What a symbol (or constant) holds as text: y/m/n constants are themselves, unset symbols are n. */
export function symbolValue(name: string, values: ConfigValues): string {
  return values.get(name) ?? (name in CONSTANTS || /^-?(0x)?[0-9a-f]+$/i.test(name) ? name : 'n');
}

function tristate(text: string): Tristate {
  return CONSTANTS[text] ?? 0;
}

function operandText(expr: Expr, values: ConfigValues): string {
  return expr.kind === 'symbol' ? symbolValue(expr.name, values) : expr.kind === 'literal' ? expr.value : '';
}

function compare(op: CompareOp, left: string, right: string): boolean {
  const number = (text: string) => (/^-?(0x[0-9a-f]+|\d+)$/i.test(text) ? Number(text) : Number.NaN);
  const [a, b] = [number(left), number(right)];
  const numeric = !Number.isNaN(a) && !Number.isNaN(b);
  const order = numeric ? Math.sign(a - b) : left === right ? 0 : left < right ? -1 : 1;
  switch (op) {
    case '=':
      return order === 0;
    case '!=':
      return order !== 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
  }
}

/** Kconfig's tristate logic: && is min, || is max, ! is 2 - x, a comparison is y or n. */
export function evaluate(expr: Expr, values: ConfigValues): Tristate {
  switch (expr.kind) {
    case 'symbol':
      return tristate(symbolValue(expr.name, values));
    case 'literal':
      return tristate(expr.value);
    case 'not':
      return (2 - evaluate(expr.operand, values)) as Tristate;
    case 'and':
      return Math.min(evaluate(expr.left, values), evaluate(expr.right, values)) as Tristate;
    case 'or':
      return Math.max(evaluate(expr.left, values), evaluate(expr.right, values)) as Tristate;
    case 'compare':
      return compare(expr.op, operandText(expr.left, values), operandText(expr.right, values)) ? 2 : 0;
  }
}

/** One leaf of an expression that has the wrong value: `MODVERSIONS` wanted off while it is y. */
export interface UnmetTerm {
  /** The leaf as written (`!MODVERSIONS`, `RUST_IS_AVAILABLE`, `NR_CPUS>1`). */
  term: string;
  /** The symbol to change, for a plain (possibly negated) symbol; null for comparisons and macros. */
  symbol: string | null;
  /** Value it must take to satisfy the leaf: a negated symbol must be n, a plain one y (or m). */
  wanted: 'y' | 'n' | null;
  /** Its current value, as in menuconfig's `MODVERSIONS [=y]`. */
  current: string;
}

/** `!MODVERSIONS [=y]`, `RUST_IS_AVAILABLE [=n]`. */
export function formatTerm(term: UnmetTerm): string {
  return term.symbol ? `${term.term} [=${term.current}]` : `${term.term} (currently false)`;
}

/**
 * The leaves that keep `expr` from being `want` (true: satisfied, above n). Every unmet child of an
 * `&&` is listed; an `||` lists each alternative, since fixing any one of them would do.
 */
export function unmetTerms(expr: Expr, values: ConfigValues, want = true): UnmetTerm[] {
  if (evaluate(expr, values) > 0 === want) return [];
  switch (expr.kind) {
    case 'symbol':
      return [
        {
          term: want ? expr.name : `!${expr.name}`,
          symbol: expr.name in CONSTANTS ? null : expr.name,
          wanted: want ? 'y' : 'n',
          current: symbolValue(expr.name, values),
        },
      ];
    case 'not':
      return unmetTerms(expr.operand, values, !want);
    case 'and':
    case 'or':
      return [...unmetTerms(expr.left, values, want), ...unmetTerms(expr.right, values, want)];
    default:
      return [
        {
          term: want ? formatExpr(expr) : `!(${formatExpr(expr)})`,
          symbol: null,
          wanted: null,
          current: String(evaluate(expr, values) > 0 ? 'y' : 'n'),
        },
      ];
  }
}

// ---- .config ----

export interface ParsedConfig {
  values: Map<string, string>;
  /** Symbols in the order they were set (the last assignment of a symbol wins, as in Kconfig). */
  assigned: string[];
  /** 1-based numbers of lines that are neither config lines, comments nor blank. */
  ignoredLines: number[];
  /** 1-based numbers of lines longer than any config line (MAX_LINE_CHARS), skipped unread. */
  overlongLines: number[];
  /** The text had more lines than MAX_LINES: only the first MAX_LINES were read. */
  partial: boolean;
}

const SET = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/;
const NOT_SET = /^# CONFIG_([A-Za-z0-9_]+) is not set$/;

/** `CONFIG_X=y|m|n|"text"|123` and `# CONFIG_X is not set`; everything else is counted, not guessed at. */
export function parseDotConfig(text: string): ParsedConfig {
  const values = new Map<string, string>();
  const ignoredLines: number[] = [];
  const { lines, overlong, partial } = pasteLines(text);
  for (const { number, text: raw } of lines) {
    const line = raw.trim();
    const set = SET.exec(line);
    const notSet = NOT_SET.exec(line);
    if (set) {
      const value = set[2]!.trim();
      values.delete(set[1]!);
      values.set(set[1]!, /^".*"$/.test(value) ? value.slice(1, -1).replace(/\\(["\\])/g, '$1') : value);
    } else if (notSet) {
      values.delete(notSet[1]!);
      values.set(notSet[1]!, 'n');
    } else if (line !== '' && !line.startsWith('#')) {
      ignoredLines.push(number);
    }
  }
  return { values, assigned: [...values.keys()], ignoredLines, overlongLines: overlong, partial };
}

// ---- Kconfig files ----

export type SymbolType = 'bool' | 'tristate' | 'string' | 'int' | 'hex';

export interface KconfigEntry {
  name: string;
  type: SymbolType | null;
  /** Has a prompt, so a .config (and scripts/config) can set it; without one only defaults and selects do. */
  prompt: boolean;
  /** Its own `depends on` lines plus those of enclosing if/menu/choice blocks. */
  dependsOn: Expr[];
  selects: { symbol: string; condition: Expr | null }[];
  /** `def_bool`/`def_tristate`/`default` values with their `if` conditions. */
  defaults: { value: Expr; condition: Expr | null }[];
  /** Id of the enclosing choice block (members exclude each other), or null. */
  choice: number | null;
  file: string;
  line: number;
}

export interface Kconfig {
  /** A symbol can be defined in several places (per arch, say); all of them are kept. */
  entries: Map<string, KconfigEntry[]>;
  choices: number;
  /** Lines that could not be parsed, with where they are (the reader carries on past them). */
  problems: string[];
}

interface Block {
  kind: 'if' | 'menu' | 'choice';
  deps: Expr[];
  /** Choice blocks are numbered across the whole tree. */
  id?: number;
}

/** Tabs count to the next multiple of 8, as Kconfig's help-text rule needs. */
function indentOf(line: string): number {
  let width = 0;
  for (const char of line) {
    if (char === ' ') width++;
    else if (char === '\t') width = (Math.floor(width / 8) + 1) * 8;
    else break;
  }
  return width;
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote) quote = null;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '#') return line.slice(0, i);
  }
  return line;
}

const IF = /\sif\s/;

/** `"prompt text" if EXPR` / `EXPR if EXPR` -> the part before `if` and the condition. */
function splitIf(text: string): [string, string | null] {
  const match = IF.exec(text);
  if (!match) return [text, null];
  const before = text.slice(0, match.index).trimEnd();
  // `if` inside a quoted prompt is text, not a condition.
  const quotes = (before.match(/"/g) ?? []).length;
  return quotes % 2 === 0 ? [before, text.slice(match.index + match[0].length).trimStart()] : [text, null];
}

export interface KconfigReadOptions {
  sourceDir: string;
  /** arch/<srcarch>/Kconfig is the one `source "arch/$(SRCARCH)/Kconfig"` reads ("x86"). */
  srcarch: string;
}

/** Reads the Kconfig tree from the top-level Kconfig, following `source` lines as the real parser does. */
export async function readKconfig(options: KconfigReadOptions): Promise<Kconfig> {
  const kconfig: Kconfig = { entries: new Map(), choices: 0, problems: [] };
  const variables: Record<string, string> = { SRCARCH: options.srcarch, HEADER_ARCH: options.srcarch };
  const read = async (relative: string, inherited: Expr[]) => {
    const path = join(options.sourceDir, relative);
    if (!existsSync(path)) return;
    await parseKconfigFile(
      await readFile(path, 'utf8'),
      relative,
      inherited,
      kconfig,
      async (target, deps) => {
        await read(
          target.replace(/\$\((\w+)\)/g, (_, name: string) => variables[name] ?? ''),
          deps,
        );
      },
    );
  };
  await read('Kconfig', []);
  return kconfig;
}

/** Parses one file into `kconfig`; `source` lines call `onSource` with the dependencies in force there. */
export async function parseKconfigFile(
  text: string,
  file: string,
  inherited: Expr[],
  kconfig: Kconfig,
  onSource: (path: string, deps: Expr[]) => Promise<void> = async () => {},
): Promise<void> {
  const blocks: Block[] = [];
  const blockDeps = () => [...inherited, ...blocks.flatMap((block) => block.deps)];
  // What `depends on` lines attach to: an entry, a menu/choice header, or nothing (after a comment).
  let current: KconfigEntry | Block | null = null;
  let help: { textIndent: number | null } | null = null;
  const rawLines = text.split('\n');
  const expr = (source: string, line: number): Expr | null => {
    const parsed = parseExpr(source);
    if (parsed.ok) return parsed.expr;
    kconfig.problems.push(`${file}:${line}: ${parsed.error}`);
    return null;
  };

  for (let index = 0; index < rawLines.length; index++) {
    const lineNumber = index + 1;
    let raw = rawLines[index] ?? '';
    if (help) {
      if (raw.trim() === '') continue;
      const indent = indentOf(raw);
      // The first text line sets the indentation (it may equal the keyword's); a column-0 line is never help.
      help.textIndent ??= indent > 0 ? indent : -1;
      if (help.textIndent >= 0 && indent >= help.textIndent) continue;
      help = null;
    }
    while (raw.endsWith('\\') && index + 1 < rawLines.length) raw = raw.slice(0, -1) + rawLines[++index];
    const line = stripComment(raw).trim();
    if (line === '') continue;
    const [keyword = '', ...restWords] = line.split(/\s+/);
    const rest = line.slice(keyword.length).trim();
    const entry = current && 'name' in current ? current : null;

    switch (keyword) {
      case 'config':
      case 'menuconfig': {
        const created: KconfigEntry = {
          name: rest,
          type: null,
          prompt: false,
          dependsOn: blockDeps(),
          selects: [],
          defaults: [],
          choice: blocks.findLast((block) => block.kind === 'choice')?.id ?? null,
          file,
          line: lineNumber,
        };
        const list = kconfig.entries.get(rest) ?? [];
        list.push(created);
        kconfig.entries.set(rest, list);
        current = created;
        break;
      }
      case 'choice':
      case 'menu':
        current =
          keyword === 'choice'
            ? { kind: keyword, deps: [], id: ++kconfig.choices }
            : { kind: keyword, deps: [] };
        blocks.push(current);
        break;
      case 'if': {
        const condition = expr(rest, lineNumber);
        blocks.push({ kind: 'if', deps: condition ? [condition] : [] });
        current = null;
        break;
      }
      case 'endif':
      case 'endmenu':
      case 'endchoice':
        blocks.pop();
        current = null;
        break;
      case 'comment':
      case 'mainmenu':
        current = null;
        break;
      case 'source':
      case 'rsource':
      case 'osource':
      case 'orsource': {
        const target = /^"([^"]*)"/.exec(rest)?.[1];
        if (target)
          await onSource(
            keyword.startsWith('r') || keyword.startsWith('or') ? relativeTo(file, target) : target,
            blockDeps(),
          );
        current = null;
        break;
      }
      case 'depends': {
        const condition = expr(rest.replace(/^on\s+/, ''), lineNumber);
        if (condition && current) (entry ? entry.dependsOn : (current as Block).deps).push(condition);
        break;
      }
      case 'help':
      case '---help---':
        help = { textIndent: null };
        break;
      default:
        if (entry) readAttribute(entry, keyword, rest, restWords, lineNumber, expr);
    }
  }
}

function relativeTo(file: string, target: string): string {
  const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '';
  return dir ? `${dir}/${target}` : target;
}

function readAttribute(
  entry: KconfigEntry,
  keyword: string,
  rest: string,
  words: string[],
  line: number,
  expr: (source: string, line: number) => Expr | null,
): void {
  const [body, conditionText] = splitIf(rest);
  const condition = conditionText ? expr(conditionText, line) : null;
  switch (keyword) {
    case 'bool':
    case 'tristate':
    case 'string':
    case 'int':
    case 'hex':
      entry.type = keyword;
      if (body.trim().startsWith('"')) entry.prompt = true;
      break;
    case 'def_bool':
    case 'def_tristate': {
      entry.type = keyword === 'def_bool' ? 'bool' : 'tristate';
      const value = expr(body, line);
      if (value) entry.defaults.push({ value, condition });
      break;
    }
    case 'default': {
      const value = expr(body, line);
      if (value) entry.defaults.push({ value, condition });
      break;
    }
    case 'prompt':
      entry.prompt = true;
      break;
    case 'select':
      if (words[0]) entry.selects.push({ symbol: words[0], condition });
      break;
  }
}

/** Every `select <symbol>` in the tree: who selects it and under which condition. */
export function selectorsOf(
  kconfig: Kconfig,
  symbol: string,
): { by: KconfigEntry; condition: Expr | null }[] {
  const found: { by: KconfigEntry; condition: Expr | null }[] = [];
  for (const list of kconfig.entries.values()) {
    for (const entry of list) {
      for (const select of entry.selects)
        if (select.symbol === symbol) found.push({ by: entry, condition: select.condition });
    }
  }
  return found;
}

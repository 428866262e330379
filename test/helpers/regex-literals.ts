/**
 * The regular expressions written in a TypeScript source file: every regex literal, and every
 * `RegExp(` / `new RegExp(` call site (whose pattern is only known when it runs). A small lexer
 * rather than a parser: it knows strings, template literals (with nested `${}`), comments and where a
 * `/` starts a regex instead of dividing, which is all the repository's sources need.
 */

export interface RegexLiteral {
  line: number;
  pattern: string;
  flags: string;
}

export interface SourceRegexes {
  literals: RegexLiteral[];
  /** Lines of `RegExp(` and `new RegExp(` calls. */
  constructed: number[];
}

/** After these a `/` starts an expression, so it is a regex; after anything else it divides. */
const BEFORE_EXPRESSION = new Set([...'(,=:[!&|?{};+-*%<>~^']);
const KEYWORDS_BEFORE_EXPRESSION = new Set([
  'return',
  'typeof',
  'case',
  'in',
  'of',
  'void',
  'yield',
  'await',
]);

export function regexesIn(source: string): SourceRegexes {
  const literals: RegexLiteral[] = [];
  const constructed: number[] = [];
  // For each open `${` of a template literal, the brace depth at which it closes.
  const templates: number[] = [];
  let depth = 0;
  let line = 1;
  let previous = ''; // the last significant character, or word, of code
  let i = 0;
  const skipTo = (end: number) => {
    for (; i < end; i++) if (source[i] === '\n') line++;
  };
  /** Reads a template literal's text from `i` up to its end or its next `${`. */
  const templateText = () => {
    while (i < source.length && source[i] !== '`') {
      if (source[i] === '\\') skipTo(i + 2);
      else if (source.startsWith('${', i)) {
        templates.push(depth++);
        skipTo(i + 2);
        previous = '{';
        return;
      } else skipTo(i + 1);
    }
    skipTo(i + 1);
    previous = '`';
  };
  while (i < source.length) {
    const char = source[i]!;
    if (char === '\n' || char === ' ' || char === '\t' || char === '\r') {
      skipTo(i + 1);
    } else if (source.startsWith('//', i)) {
      const end = source.indexOf('\n', i);
      skipTo(end < 0 ? source.length : end);
    } else if (source.startsWith('/*', i)) {
      skipTo(source.indexOf('*/', i + 2) + 2);
    } else if (char === '"' || char === "'") {
      let end = i + 1;
      while (source[end] !== char) end += source[end] === '\\' ? 2 : 1;
      skipTo(end + 1);
      previous = char;
    } else if (char === '`') {
      skipTo(i + 1);
      templateText();
    } else if (char === '}' && templates.at(-1) === depth - 1) {
      templates.pop();
      depth--;
      skipTo(i + 1);
      templateText();
    } else if (
      char === '/' &&
      (BEFORE_EXPRESSION.has(previous) || KEYWORDS_BEFORE_EXPRESSION.has(previous))
    ) {
      const start = line;
      let end = i + 1;
      let inClass = false;
      while (inClass || source[end] !== '/') {
        if (source[end] === '\\') end++;
        else if (source[end] === '[') inClass = true;
        else if (source[end] === ']') inClass = false;
        end++;
      }
      const flags = /^[a-z]*/.exec(source.slice(end + 1))![0];
      literals.push({ line: start, pattern: source.slice(i + 1, end), flags });
      skipTo(end + 1 + flags.length);
      previous = '/';
    } else if (/[\w$]/.test(char)) {
      const word = /^[\w$]+/.exec(source.slice(i))![0];
      if (word === 'RegExp' && /^RegExp\s*\(/.test(source.slice(i, i + 20))) constructed.push(line);
      skipTo(i + word.length);
      previous = word;
    } else if (char === '!' && /[\w$)\]]$/.test(previous)) {
      skipTo(i + 1); // a non-null assertion: what comes next still follows an operand
    } else {
      if (char === '{') depth++;
      if (char === '}') depth--;
      skipTo(i + 1);
      previous = char;
    }
  }
  return { literals, constructed };
}

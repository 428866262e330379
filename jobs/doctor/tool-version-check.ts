/**
 * Recognises pasted `rustc --version`, `bindgen --version`, `clang --version` and `make rustavailable`
 * output and checks the versions against a tree's scripts/min-tool-version.sh, with advice for that tree.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseMinToolTable } from '../kernel/min-tool-version.ts';
import { compareVersions } from '../kernel/version.ts';
import { pasteLines } from './paste-lines.ts';

export type ToolName = 'rustc' | 'bindgen' | 'clang' | 'rust-src' | 'libclang';

export interface ToolFinding {
  tool: ToolName;
  /** The version the paste shows, when it shows one. */
  found: string | null;
  /** The version the tree asks for (minimum, or the exact one an older tree expects). */
  expected: string | null;
  status: 'ok' | 'too-new' | 'too-old' | 'missing';
  /** One user-facing paragraph: verdict and how to get the expected version. */
  text: string;
}

export interface ToolCheck {
  findings: ToolFinding[];
  /** `make rustavailable`'s own verdict line, when pasted ("Rust is available!"). */
  verdict: string | null;
  /** 1-based lines of the paste recognised as tool output (the config reader skips them). */
  lines: number[];
}

/** What the tree's scripts say: minimum versions, and whether newer ones are only warned about. */
export interface ToolRules {
  kernelVersion: string;
  rustc: string | null;
  bindgen: string | null;
  llvm: string | null;
  /** Older trees (6.1) expect exactly the minimum and print "too new" for later versions. */
  warnsTooNew: boolean;
}

export async function toolRulesFor(sourceDir: string, kernelVersion: string): Promise<ToolRules> {
  const [table, available] = await Promise.all([
    readFile(join(sourceDir, 'scripts', 'min-tool-version.sh'), 'utf8').catch(() => ''),
    readFile(join(sourceDir, 'scripts', 'rust_is_available.sh'), 'utf8').catch(() => ''),
  ]);
  const version = (tool: string) =>
    parseMinToolTable(table).tools.find((t) => t.tool === tool)?.version ?? null;
  return {
    kernelVersion,
    rustc: version('rustc'),
    bindgen: version('bindgen'),
    llvm: version('llvm'),
    warnsTooNew: /is too new/.test(available),
  };
}

/**
 * Every pattern runs on one line at a time (at most MAX_LINE_CHARS long) and is anchored, or starts
 * with a literal that cannot overlap what follows it, so each costs time linear in the line.
 */
const VERSION_LINES: { tool: 'rustc' | 'bindgen'; pattern: RegExp }[] = [
  { tool: 'rustc', pattern: /^\s*rustc (\d+\.\d+(?:\.\d+)?)(?:-[\w.]+)?(?:\s|$)/ },
  { tool: 'bindgen', pattern: /^\s*bindgen(?:-cli)? (\d+\.\d+(?:\.\d+)?)(?:\s|$)/ },
];
/** `clang version 14.0.6`, after any vendor words: `Debian clang version …`, `Ubuntu clang version …`. */
const CLANG = 'clang version ';
const VENDOR_WORDS = /^\s*(?:[\w.-]+ )*$/;
const LEADING_VERSION = /^\d+\.\d+(?:\.\d+)?/;

/** rust_is_available.sh's messages, as 6.1 and later print them: the line from its `***` on. */
const MESSAGE_START = /\*\*\*\s/;
const TOO = /^\*\*\* (Rust compiler|Rust bindings generator|libclang) /;
const TOO_WHICH = /is too (?:old|new)/;
const YOUR = /^\*\*\*\s+(?:Your|libclang) version:\s+(\S+)/;
const NOT_FOUND = /^\*\*\* (Rust compiler|Rust bindings generator) '/;
const NOT_FOUND_END = "' could not be found";
const NO_CORE = /Source code for the 'core' standard library could not be found/;
const NO_LIBCLANG = /check the libclang version|failure to locate libclang/;
const AVAILABLE = /^\s*(Rust is available!)/;
const MESSAGE_BLOCK = /^\s*\*\*\*/;

/** The tool and version a `--version` line shows, or null. */
function versionLine(line: string): { tool: 'rustc' | 'bindgen' | 'clang'; version: string } | null {
  for (const { tool, pattern } of VERSION_LINES) {
    const version = pattern.exec(line)?.[1];
    if (version) return { tool, version };
  }
  const clang = line.indexOf(CLANG);
  if (clang < 0 || !VENDOR_WORDS.test(line.slice(0, clang))) return null;
  const version = LEADING_VERSION.exec(line.slice(clang + CLANG.length))?.[0];
  return version ? { tool: 'clang', version } : null;
}

/** The install line for the tree's bindgen: the CLI moved to the `bindgen-cli` crate in 0.61. */
function bindgenInstall(version: string): string {
  const crate = compareVersions(version, '0.61.0') < 0 ? 'bindgen' : 'bindgen-cli';
  return `cargo install --locked --version ${version} ${crate}`;
}

function advice(tool: ToolName, rules: ToolRules): string {
  switch (tool) {
    case 'rustc':
      return rules.rustc
        ? `With rustup, in the kernel source directory: \`rustup override set ${rules.rustc}\` then \`rustup component add rust-src\`; build with \`make LLVM=1\`.`
        : '';
    case 'bindgen':
      return rules.bindgen ? `Install it with \`${bindgenInstall(rules.bindgen)}\` (it needs libclang).` : '';
    case 'rust-src':
      return 'With rustup: `rustup component add rust-src`; with distribution packages, install rust-src (or point RUST_LIB_SRC at the library sources).';
    case 'libclang':
      return 'bindgen loads libclang at run time: install libclang (e.g. libclang-dev) or set LIBCLANG_PATH to the directory holding libclang.so.';
    case 'clang':
      return rules.llvm ? `Install clang/LLVM ${rules.llvm} or later and build with \`make LLVM=1\`.` : '';
  }
}

function judge(tool: 'rustc' | 'bindgen' | 'clang', found: string, rules: ToolRules): ToolFinding {
  const expected = tool === 'clang' ? rules.llvm : rules[tool];
  const linux = `Linux ${rules.kernelVersion}`;
  const label = tool === 'clang' ? 'clang' : tool;
  if (!expected) {
    return {
      tool,
      found,
      expected,
      status: 'ok',
      text: `${label} ${found}: ${linux} sets no version for it.`,
    };
  }
  const order = compareVersions(found, expected);
  const exact = rules.warnsTooNew && tool !== 'clang';
  if (order < 0) {
    return {
      tool,
      found,
      expected,
      status: 'too-old',
      text: `❌ ${label} ${found} is too old: ${linux} needs ${exact ? '' : 'at least '}${expected}. ${advice(tool, rules)}`,
    };
  }
  if (order > 0 && exact) {
    return {
      tool,
      found,
      expected,
      status: 'too-new',
      text: `⚠️ ${label} ${found} is too new: it may work but is unsupported; ${linux} expects ${expected}. ${advice(tool, rules)}`,
    };
  }
  const relation = order === 0 ? 'is the version' : `is newer than the minimum ${expected}, which`;
  return { tool, found, expected, status: 'ok', text: `✅ ${label} ${found} ${relation} ${linux} asks for.` };
}

/** Finds tool output in `text` and judges every version it shows; lines not recognised are left alone. */
export function checkToolVersions(text: string, rules: ToolRules): ToolCheck {
  const recognised: number[] = [];
  const versions = new Map<'rustc' | 'bindgen' | 'clang', string>();
  const problems: ToolFinding[] = [];
  let verdict: string | null = null;
  let pending: 'rustc' | 'bindgen' | 'clang' | null = null;
  const noVersion = (tool: ToolName, message: string): ToolFinding => ({
    tool,
    found: null,
    expected: tool === 'rustc' ? rules.rustc : tool === 'bindgen' ? rules.bindgen : null,
    status: 'missing',
    text: `❌ ${message} ${advice(tool, rules)}`,
  });
  // Each line is tool output (its number kept) or left for the config reader.
  const recognise = (line: string): boolean => {
    const shown = versionLine(line);
    if (shown) {
      versions.set(shown.tool, shown.version);
      return true;
    }
    const start = line.search(MESSAGE_START);
    const message = start < 0 ? '' : line.slice(start);
    const too = TOO.exec(message);
    if (too && TOO_WHICH.test(message.slice(too[0].length))) {
      pending = too[1] === 'Rust compiler' ? 'rustc' : too[1] === 'libclang' ? 'clang' : 'bindgen';
      return true;
    }
    const your = YOUR.exec(message);
    if (your && pending) {
      versions.set(pending, your[1] as string);
      pending = null;
      return true;
    }
    const notFound = NOT_FOUND.exec(message);
    if (notFound && message.includes(NOT_FOUND_END, notFound[0].length)) {
      const tool = notFound[1] === 'Rust compiler' ? 'rustc' : 'bindgen';
      problems.push(
        noVersion(tool, `${tool} could not be found (is it on PATH, or passed as ${tool.toUpperCase()}=…?).`),
      );
      return true;
    }
    if (NO_CORE.test(line)) {
      problems.push(
        noVersion(
          'rust-src',
          "The Rust standard library source (rust-src) is missing: the kernel builds its own 'core'.",
        ),
      );
      return true;
    }
    if (NO_LIBCLANG.test(line)) {
      problems.push(noVersion('libclang', 'bindgen could not run with libclang.'));
      return true;
    }
    const available = AVAILABLE.exec(line);
    if (available) {
      verdict = available[1] as string;
      return true;
    }
    return MESSAGE_BLOCK.test(line); // the rest of a rustavailable message block
  };
  // Overlong lines are skipped and a paste past MAX_LINES is read that far: the config reader reports both.
  for (const line of pasteLines(text).lines) if (recognise(line.text)) recognised.push(line.number);
  const findings = [...[...versions].map(([tool, found]) => judge(tool, found, rules)), ...problems];
  return { findings, verdict, lines: recognised };
}

/**
 * The one line that tells a newcomer their module was written for another kernel series: when a build
 * fails on names that the other prepared series has and this one lacks (looked up in each tree's own
 * rust/ sources and its module! rules, never in a hand-kept list), e.g. "`KVec`, `GFP_KERNEL` and
 * module! with plain strings (`name: "…"`) are Linux 6.12 APIs; this was built against 6.1 — try
 * `!build --kernel 6.12`".
 *
 * Every pattern here reads compiler output (which quotes user code) or kernel sources one line at a time
 * and matches in linear time: anchored, one way to match each part.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DiagnosticBlock } from './diagnostics.ts';

/** What a tree's Rust support offers, as far as telling series apart needs. */
export interface RustApi {
  /** Public items of the kernel crates: types, constants, functions and methods, modules, traits, macros. */
  items: Set<string>;
  /** How module! takes its name: 6.1 byte strings (b"..."), 6.12 plain strings. */
  moduleStrings: 'byte' | 'plain' | null;
}

export interface SeriesTree {
  series: string;
  sourceDir: string;
}

const PUBLIC_ITEM =
  /^\s*pub(?:\([\w:]+\))?\s+(?:(?:unsafe|const|async|extern\s+"C")\s+)*(?:fn|struct|enum|trait|type|const|static|mod|union)\s+(\w+)/;
const MACRO = /^\s*macro_rules!\s*(\w+)/;
/** `"name" => info.name = expect_byte_string(it),` in rust/macros/module.rs. */
const MODULE_NAME_RULE = /"name"\s*=>\s*info\.name\s*=\s*expect_(\w+)/;

/** Raw C bindings (`bindings::GFP_KERNEL` in 6.1) are not the kernel crate's API a module is written against. */
const RAW_BINDINGS = new Set(['bindings', 'uapi']);

async function rustFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((entry) => !RAW_BINDINGS.has(entry.parentPath.slice(dir.length + 1).split('/')[0] ?? ''))
    .filter((entry) => entry.isFile() && entry.name.endsWith('.rs'))
    .map((entry) => join(entry.parentPath, entry.name));
}

export async function readRustApi(sourceDir: string): Promise<RustApi> {
  const api: RustApi = { items: new Set(), moduleStrings: null };
  for (const file of await rustFiles(join(sourceDir, 'rust'))) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const item = PUBLIC_ITEM.exec(line) ?? MACRO.exec(line);
      if (item?.[1]) api.items.add(item[1]);
      const rule = MODULE_NAME_RULE.exec(line);
      if (rule) api.moduleStrings = rule[1]?.startsWith('byte') ? 'byte' : 'plain';
    }
  }
  return api;
}

const apis = new Map<string, Promise<RustApi>>();

/** A tree's API, read once per source tree (a few hundred files, under a second). */
export function rustApi(sourceDir: string): Promise<RustApi> {
  let api = apis.get(sourceDir);
  if (!api) {
    api = readRustApi(sourceDir);
    apis.set(sourceDir, api);
  }
  return api;
}

/** The backticked names in a headline: "cannot find type `KVec` in this scope" -> ["KVec"]. */
function quotedNames(headline: string): string[] {
  return headline
    .split('`')
    .filter((_, index) => index % 2 === 1)
    .map((quoted) => quoted.split('::').pop() ?? '')
    .filter((name) => /^\w+$/.test(name));
}

/** Errors about a name that is not there: unresolved types, values, paths and imports; unknown methods. */
const MISSING_NAME_CODES = new Set(['E0412', 'E0425', 'E0433', 'E0432', 'E0405', 'E0422', 'E0423', 'E0531']);
const UNKNOWN_METHOD = 'E0599';

/** Which module! string form the source uses: `name: b"..."` or `name: "..."`. */
function moduleForm(source: string): 'byte' | 'plain' | null {
  const start = source.indexOf('module!');
  if (start < 0) return null;
  const name = /\bname:\s*(b?)"/.exec(source.slice(start, start + 2000));
  return name ? (name[1] ? 'byte' : 'plain') : null;
}

/** What of `other` the failed build's errors name that `built` lacks, as the user wrote it. */
function versionedNames(
  diagnostics: DiagnosticBlock[],
  source: string,
  built: RustApi,
  other: RustApi,
): string[] {
  const found = new Set<string>();
  for (const block of diagnostics) {
    if (block.severity !== 'error') continue;
    if (block.code && (MISSING_NAME_CODES.has(block.code) || block.code === UNKNOWN_METHOD)) {
      // "no method named `try_push` found for struct `Vec<i32>`": only the first name is the method.
      const names = quotedNames(block.message).slice(0, block.code === UNKNOWN_METHOD ? 1 : undefined);
      for (const name of names) {
        if (!other.items.has(name) || built.items.has(name)) continue;
        found.add(block.code === UNKNOWN_METHOD ? `.${name}()` : name);
      }
    }
    if (block.message.startsWith('proc macro panicked') && block.text.includes('Expected')) {
      const form = moduleForm(source);
      if (form && form === other.moduleStrings && form !== built.moduleStrings) {
        found.add(
          form === 'byte'
            ? 'module! with byte strings (`name: b"…"`)'
            : 'module! with plain strings (`name: "…"`)',
        );
      }
    }
  }
  return [...found];
}

/** Names as code, the module! form (phrased already) as it is, the form last. */
function listed(names: string[]): string {
  const parts = [
    ...names.filter((name) => !name.startsWith('module!')).map((name) => `\`${name}\``),
    ...names.filter((name) => name.startsWith('module!')),
  ];
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

/**
 * The hint line for a failed build on `built`, naming the other series whose API the errors ask for
 * (the one matching most names), or null when the errors are not about versions.
 */
export async function seriesHint(
  diagnostics: DiagnosticBlock[],
  source: string,
  built: SeriesTree,
  others: SeriesTree[],
): Promise<string | null> {
  const builtApi = await rustApi(built.sourceDir);
  let best: { tree: SeriesTree; names: string[] } | null = null;
  for (const tree of others) {
    if (tree.series === built.series) continue;
    const names = versionedNames(diagnostics, source, builtApi, await rustApi(tree.sourceDir));
    if (names.length > (best?.names.length ?? 0)) best = { tree, names };
  }
  if (!best) return null;
  const { series } = best.tree;
  const apis = best.names.length === 1 ? `is a Linux ${series} API` : `are Linux ${series} APIs`;
  return `💡 ${listed(best.names)} ${apis}; this was built against ${built.series} — try \`!build --kernel ${series}\``;
}

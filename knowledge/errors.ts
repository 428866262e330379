/**
 * The error explainer: a message or paste holding a known toolchain or build error (rustavailable's
 * checks, libclang, `core` not found out of tree, clang rejecting a GCC kernel's flags, modpost's
 * undefined Rust symbols...) is answered with its cause and fix for the series the user names (else
 * the default), citing the docs that explain it. Recognition compares normalised words (no quotes,
 * paths, versions, line numbers or `***` margins), so a paste from another machine or release still
 * matches. Each indexed tree's own scripts/rust_is_available.sh adds its exact messages (and the line
 * to cite), and its scripts/min-tool-version.sh the versions the fix names.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMinToolVersions } from '../jobs/kernel/min-tool-version.ts';
import { compareVersions, kernelSeries } from '../jobs/kernel/version.ts';
import type { Answer, Citation, FaqEntry } from './answer-types.ts';
import { kernelSourceUrl } from './ingest/links.ts';
import type { Passage, TreeInfo } from './passage.ts';
import { askedKernelVersion } from './query-hints.ts';

/** What one indexed kernel series says about its own toolchain checks. */
export interface SeriesFacts {
  series: string;
  kernelVersion: string;
  /** Minimum tool versions from scripts/min-tool-version.sh (rustc, bindgen, llvm), when present. */
  minimums: Record<string, string>;
  /** The messages of scripts/rust_is_available.sh, each with the error class it belongs to. */
  checks: ScriptCheck[];
}

export interface ScriptCheck {
  /** The message's fixed wording between its variables, normalised. */
  fragments: string[];
  /** 1-based line of the message's first `echo` in the script. */
  line: number;
  errorClass: ErrorClassId;
}

type ErrorClassId =
  | 'rustc-missing'
  | 'rustc-unusable'
  | 'bindgen-missing'
  | 'bindgen-unusable'
  | 'libclang-missing'
  | 'libclang-mismatch'
  | 'bindgen-known-bug'
  | 'too-old'
  | 'too-new'
  | 'rust-src-missing'
  | 'script-run-directly'
  | 'crate-not-found'
  | 'clang-rejects-gcc-flags'
  | 'modpost-undefined-rust'
  | 'lld-missing';

/** What the explanation of one class is made of. */
interface Explanation {
  lead: string;
  code?: string;
}

interface ErrorClass {
  id: ErrorClassId;
  /** Alternative sets of phrases; a set matches when the normalised paste contains all of them. */
  signs: string[][];
  /** The FAQ entry that explains it (knowledge/faq/<slug>.md). */
  faq: string;
  /** The kernel documentation section that explains it, found among the indexed passages. */
  doc?: { path: string; section: string };
  /** `text` is the normalised paste, for the classes whose cause depends on its wording. */
  explain(facts: SeriesFacts | null, text: string): Explanation;
}

const QUICK_START = 'Documentation/rust/quick-start.rst';
/** Enough of any paste to hold its error; the chat input is capped before this anyway. */
const MAX_TEXT = 20_000;

/**
 * The paste as comparable words: lowercased, quotes dropped, whitespace collapsed, decoration tokens
 * (`***`, `>`, `|`) dropped, and what differs between machines dropped or replaced by a placeholder:
 * the directories of paths and their :line:column, version and line numbers, mangled Rust symbols.
 */
export function normalizeErrorText(text: string): string {
  const words: string[] = [];
  for (const token of text.slice(0, MAX_TEXT).split(/\s+/)) {
    const word = token.replace(/[`'"\u2018\u2019\u201c\u201d]/g, '');
    if (word === '' || /^[*>|#-]+$/.test(word)) continue;
    if (/^\[?_R[0-9A-Za-z_]/.test(word)) words.push('<rust-symbol>');
    else if (word.includes('/') && !/^-/.test(word)) words.push(fileName(word));
    else if (/^[v(]?\d[\d.:]*(?:[-+~][\w.~+-]*)?[,;)]?$/.test(word)) words.push('<number>');
    else words.push(word.toLowerCase());
  }
  return words.join(' ');
}

/** A path as its last part without line and column (`/home/me/m/hello.rs:12:5` → `hello.rs`). */
function fileName(path: string): string {
  const parts = (path.split('/').findLast((part) => part !== '') ?? '').split(':');
  while (parts.length > 1 && /^\d*$/.test(parts.at(-1)!)) parts.pop();
  return parts.join(':').toLowerCase() || '<path>';
}

/** How specific a match the normalised text is: the length of the longest sign set it holds whole, or 0. */
function signScore(text: string, signs: string[][]): number {
  let best = 0;
  for (const sign of signs) {
    if (sign.every((phrase) => text.includes(phrase)))
      best = Math.max(
        best,
        sign.reduce((sum, phrase) => sum + phrase.length, 0),
      );
  }
  return best;
}

function min(facts: SeriesFacts | null, tool: string): string | null {
  return facts?.minimums[tool] ?? null;
}

/**
 * Series before v6.11 pin one rustc and bindgen and warn about newer ones; later ones set a minimum.
 * The tree's script tells; a tree without one is judged by its version.
 */
function pinsVersions(facts: SeriesFacts | null): boolean {
  if (!facts) return false;
  if (facts.checks.length === 0) return compareVersions(facts.series, '6.11') < 0;
  return facts.checks.some((check) => check.errorClass === 'too-new');
}

function rustcSetup(facts: SeriesFacts | null): string {
  const rustc = min(facts, 'rustc');
  const pinned = rustc && pinsVersions(facts);
  return [
    `rustup override set ${pinned ? rustc : 'stable'}   # run at the top of the kernel tree`,
    'rustup component add rust-src',
    'make LLVM=1 rustavailable',
  ].join('\n');
}

function bindgenInstall(facts: SeriesFacts | null): string {
  const bindgen = min(facts, 'bindgen');
  // The command-line tool moved from the `bindgen` crate to `bindgen-cli` with 0.61.
  if (bindgen && compareVersions(bindgen, '0.61.0') < 0)
    return `cargo install --locked --version ${bindgen} bindgen`;
  return pinsVersions(facts) && bindgen
    ? `cargo install --locked --version ${bindgen} bindgen-cli`
    : 'cargo install --locked bindgen-cli';
}

const TOOL_NAMES = { rustc: 'rustc', bindgen: 'bindgen', llvm: 'libclang' } as const;

const TOOL_MENTIONS: [keyof typeof TOOL_NAMES, string[]][] = [
  ['rustc', ['rustc', 'rust compiler']],
  ['bindgen', ['bindgen', 'bindings generator']],
  ['llvm', ['libclang']],
];

/** Which tool a "too old/new" message is about: the one named last before `phrase` (else rustc). */
function toolIn(text: string, phrase: string): keyof typeof TOOL_NAMES {
  const before = text.slice(0, Math.max(0, text.indexOf(phrase)));
  let best: { tool: keyof typeof TOOL_NAMES; at: number } = { tool: 'rustc', at: -1 };
  for (const [tool, names] of TOOL_MENTIONS)
    for (const name of names) {
      const at = before.lastIndexOf(name);
      if (at > best.at) best = { tool, at };
    }
  return best.tool;
}

const CLASSES: ErrorClass[] = [
  {
    id: 'rustc-missing',
    signs: [['rust compiler', 'could not be found'], ['rustc: command not found'], ['rustc: not found']],
    faq: 'rust-toolchain-install',
    doc: { path: QUICK_START, section: 'rustc' },
    explain: (facts) => ({
      lead: `The build runs \`rustc\` from your PATH (or the one \`RUSTC=\` names) and there is none there. Install a Rust toolchain, for example with rustup, and check it again from the top of the kernel tree${
        min(facts, 'rustc')
          ? `; ${facts!.series} needs rustc ${min(facts, 'rustc')}${pinsVersions(facts) ? ' exactly' : ' or newer'}`
          : ''
      }.`,
      code: rustcSetup(facts),
    }),
  },
  {
    id: 'rustc-unusable',
    signs: [
      ['to check the rust compiler version', 'failed'],
      ['to check the rust compiler version did not return'],
      ['rustup could not choose a version of rustc'],
      ['no default toolchain configured'],
    ],
    faq: 'rust-toolchain-install',
    doc: { path: QUICK_START, section: 'rustc' },
    explain: (facts) => ({
      lead: '`rustc` exists but running `rustc --version` failed, which usually means it is the rustup proxy with no toolchain chosen for this directory (the output the check printed says so). Pick one for the kernel tree and run the check again.',
      code: rustcSetup(facts),
    }),
  },
  {
    id: 'bindgen-missing',
    signs: [
      ['bindings generator', 'could not be found'],
      ['bindgen: command not found'],
      ['bindgen: not found'],
    ],
    faq: 'rustc-bindgen-versions',
    doc: { path: QUICK_START, section: 'bindgen' },
    explain: (facts) => ({
      lead: `The build needs bindgen to generate Rust bindings to the kernel's C headers, and there is no \`bindgen\` in your PATH (or where \`BINDGEN=\` points). Install it with cargo (make sure \`~/.cargo/bin\` is on your PATH)${
        min(facts, 'bindgen')
          ? `; ${facts!.series} needs bindgen ${min(facts, 'bindgen')}${pinsVersions(facts) ? '' : ' or newer'}`
          : ''
      }.`,
      code: `${bindgenInstall(facts)}\nmake LLVM=1 rustavailable`,
    }),
  },
  {
    id: 'bindgen-unusable',
    signs: [
      ['to check the rust bindings generator version', 'failed'],
      ['to check the bindings generator version did not return'],
      ['to check the rust bindings generator version did not return'],
    ],
    faq: 'libclang-not-found',
    doc: { path: QUICK_START, section: 'bindgen' },
    explain: (facts) => ({
      lead: '`bindgen` was found but `bindgen --version` failed. A bindgen installed with cargo loads libclang as soon as it starts, so this is most often libclang missing or not found (see the output the check printed); otherwise reinstall bindgen.',
      code: `${bindgenInstall(facts)}\nmake LLVM=1 rustavailable`,
    }),
  },
  {
    id: 'libclang-missing',
    signs: [
      ['to check the libclang version', 'failed'],
      ['a failure to locate libclang'],
      ['unable to find libclang'],
      ['couldnt find any valid shared libraries matching'],
      ['libclang not found'],
      ['libclang', 'cannot open shared object file'],
    ],
    faq: 'libclang-not-found',
    doc: { path: QUICK_START, section: 'libclang' },
    explain: (facts) => ({
      lead: `bindgen reads the C headers through libclang, the library form of Clang, and could not load it: the \`clang\` command alone is not enough. Install your distribution's libclang package (\`libclang-dev\` on Debian and Ubuntu) or, if it lives in an unusual place, set \`LIBCLANG_PATH\` to the directory holding \`libclang.so\`${
        min(facts, 'llvm') ? `; ${facts!.series} needs LLVM ${min(facts, 'llvm')} or newer` : ''
      }.`,
      code: 'export LIBCLANG_PATH=/usr/lib/llvm-<version>/lib   # only if it is not found by itself\nmake LLVM=1 rustavailable',
    }),
  },
  {
    id: 'libclang-mismatch',
    signs: [['version does not match clang'], ['libclang version', 'clang version', 'does not match']],
    faq: 'libclang-not-found',
    doc: { path: QUICK_START, section: 'libclang' },
    explain: () => ({
      lead: 'It is a warning, not a failure: the libclang bindgen loaded comes from another LLVM release than your `clang`, so bindgen may read the C headers differently from how they are compiled. Use one LLVM for both: point `LIBCLANG_PATH` at the lib directory of the LLVM your `clang` belongs to, or pick the clang that matches the libclang (e.g. `LLVM=-<version>` for versioned names).',
      code: 'clang --version\nexport LIBCLANG_PATH=/usr/lib/llvm-<clang major>/lib\nmake LLVM=1 rustavailable',
    }),
  },
  {
    id: 'bindgen-known-bug',
    signs: [['may not work due to a bug']],
    faq: 'rustc-bindgen-versions',
    doc: { path: QUICK_START, section: 'bindgen' },
    explain: (facts) => ({
      lead: "The check knows a bindgen bug that your bindgen version (or its combination with your libclang) hits, and the build may fail or miscompile bindings. Install a newer bindgen, or keep your distribution's if it says it is patched.",
      code: `${bindgenInstall(facts)}\nmake LLVM=1 rustavailable`,
    }),
  },
  {
    id: 'too-old',
    // "is rustc 1.80 too old?" asks about versions, for retrieval; "rustc is too old" reports an error.
    signs: [['is too old', 'minimum version'], ['is too old'], ['its too old']],
    faq: 'rustc-bindgen-versions',
    doc: { path: QUICK_START, section: 'rustc' },
    explain: (facts, text) => {
      const tool = toolIn(text, 'too old');
      const needed = min(facts, tool);
      const fix = tool === 'rustc' ? rustcSetup(facts) : tool === 'bindgen' ? bindgenInstall(facts) : null;
      return {
        lead: `That is an error: your ${TOOL_NAMES[tool]} is older than the kernel accepts${
          needed
            ? ` (${facts!.series} needs ${tool === 'llvm' ? 'LLVM' : TOOL_NAMES[tool]} ${needed} or newer)`
            : ''
        }. Install at least the minimum it prints${
          tool === 'llvm'
            ? ' (a newer libclang/LLVM from your distribution or from the prebuilt LLVM releases)'
            : "; if a newer one is installed under another name (such as Ubuntu's `rustc-1.85` or `bindgen-0.71`), pass it to every make command, e.g. `make LLVM=1 RUSTC=rustc-<version> BINDGEN=bindgen-<version>`, or put its directory first in your PATH"
        }, then run the check again.`,
        ...(fix ? { code: fix } : {}),
      };
    },
  },
  {
    id: 'too-new',
    signs: [['is too new'], ['too new', 'expected version']],
    faq: 'toolchain-too-new',
    doc: { path: QUICK_START, section: 'rustc' },
    explain: (facts, text) => {
      const tool = toolIn(text, 'too new') === 'bindgen' ? 'bindgen' : 'rustc';
      const pinned = pinsVersions(facts);
      const expected = min(facts, tool);
      const version = pinned && expected ? expected : '<expected version>';
      return {
        lead: pinned
          ? `It is a warning, not an error: ${facts!.series} expects exactly ${TOOL_NAMES[tool]} ${expected ?? 'the version it prints'}, and as the kernel uses unstable Rust features a newer one may break the build. Use the expected version in the kernel tree.`
          : `It is a warning, not an error: kernels before v6.11 pin one rustc and bindgen, and a newer one may break their build because the kernel uses unstable Rust features${facts ? `; ${facts.series} only sets a minimum and has no such warning, so check which tree you are building` : ''}. Use the version it expects in that tree.`,
        code:
          tool === 'rustc'
            ? `rustup override set ${version}   # at the top of the kernel tree\nrustup component add rust-src`
            : `cargo install --locked --version ${version} ${
                expected && compareVersions(expected, '0.61.0') >= 0 ? 'bindgen-cli' : 'bindgen'
              }`,
      };
    },
  },
  {
    id: 'rust-src-missing',
    signs: [['core standard library could not be found'], ['rust_lib_src', 'could not be found']],
    faq: 'rust-src-core-not-found',
    doc: { path: QUICK_START, section: 'Rust standard library source' },
    explain: () => ({
      lead: "The kernel compiles its own copy of Rust's `core` library, so it needs the standard library's source, which rustup ships as the `rust-src` component. Add it for the toolchain the tree uses; with a toolchain not installed by rustup, set `RUST_LIB_SRC` to its `library` directory.",
      code: 'rustup component add rust-src\nmake LLVM=1 rustavailable',
    }),
  },
  {
    id: 'script-run-directly',
    signs: [
      ['intended to be called from kbuild'],
      ['environment variable', 'is not set', 'rustc'],
      ['environment variable', 'is not set', 'bindgen'],
    ],
    faq: 'rustavailable',
    doc: { path: QUICK_START, section: 'rustc' },
    explain: () => ({
      lead: 'scripts/rust_is_available.sh reads the tools Kbuild chose (`RUSTC`, `BINDGEN`, `CC`) from the environment, so running it by hand checks nothing meaningful. Run it through make, with the same `LLVM=` you build with.',
      code: 'make LLVM=1 rustavailable',
    }),
  },
  {
    id: 'crate-not-found',
    signs: [
      ['cant find crate for core'],
      ['cant find crate for kernel'],
      ['cant find crate for compiler_builtins'],
      ['e0463', 'core'],
      ['e0461'],
      ['e0514'],
      ['found crate core compiled by an incompatible version of rustc'],
      ['couldnt find crate core with expected target triple'],
    ],
    faq: 'cant-find-crate-for-core',
    explain: (_facts, text) => ({
      lead:
        text.includes('e0514') || text.includes('incompatible version of rustc')
          ? 'Your module is being compiled by another `rustc` than the one that built the kernel, and Rust metadata only works with the compiler that wrote it. Build the module with exactly the rustc the kernel was built with (check `rustc --version` in both places and use `rustup override set` in the module directory), or rebuild the kernel with yours.'
          : "A Rust module is compiled against the Rust metadata (`libcore.rmeta`, `libkernel.rmeta`...) that the kernel's own build leaves in its object tree. Distribution header packages (what `/lib/modules/$(uname -r)/build` usually points to) often lack those files, or carry them for another target, so `core` is missing or wrong. Build against the full build directory of a kernel with `CONFIG_RUST=y`, after `make LLVM=1` has finished there, with the same rustc.",
      code: 'make -C /path/to/built/linux M=$PWD LLVM=1',
    }),
  },
  {
    id: 'clang-rejects-gcc-flags',
    signs: [
      ['error: unknown argument'],
      ['unknown argument:', 'clang'],
      ['unsupported option', 'clang'],
      ['unknown warning option'],
      ['unknown argument', 'bindgen'],
      ['the kernel was built by: gcc'],
    ],
    faq: 'llvm-1-every-command',
    doc: { path: QUICK_START, section: 'Building' },
    explain: () => ({
      lead: "The kernel was configured or built with GCC, so its flags are GCC's, and clang (or bindgen, which parses the headers through libclang) rejects the ones it does not know. Rust support is built and tested with the LLVM toolchain: pass `LLVM=1` to every make command, configuration included, and rebuild the kernel that way; an out-of-tree module must then be built with `LLVM=1` against that kernel, not against a GCC-built distribution kernel.",
      code: 'make LLVM=1 olddefconfig\nmake LLVM=1 -j$(nproc)\nmake -C /path/to/linux M=$PWD LLVM=1',
    }),
  },
  {
    id: 'modpost-undefined-rust',
    signs: [['modpost', '<rust-symbol>', 'undefined']],
    faq: 'modpost-undefined-rust-symbols',
    doc: { path: 'Documentation/kbuild/modules.rst', section: 'Symbols From the Kernel (vmlinux + modules)' },
    explain: () => ({
      lead: "modpost looks up every symbol the module uses in the kernel's `Module.symvers`, and these are mangled Rust symbols (`_R...`) that the kernel you build against does not export. The kernel and the module were built with a different rustc or configuration (the mangled names encode both), or against a tree whose Rust build is missing or unfinished. Build the kernel with `CONFIG_RUST=y` and then the module, from the same tree and with the same toolchain.",
      code: 'make LLVM=1 -j$(nproc)          # in the kernel tree, so Module.symvers lists its Rust symbols\nmake -C /path/to/linux M=$PWD LLVM=1',
    }),
  },
  {
    id: 'lld-missing',
    signs: [['linker ld.lld not found'], ['ld.lld: not found'], ['ld.lld: command not found']],
    faq: 'ld-lld-not-found',
    doc: { path: QUICK_START, section: 'Building' },
    explain: () => ({
      lead: "`LLVM=1` asks for the whole LLVM toolchain, its linker `ld.lld` included, and the lld package is separate from clang's on most distributions. Install lld (e.g. `lld` or `lld-<version>`), or use `LLVM=-<version>` when your LLVM tools carry a version suffix.",
      code: 'make LLVM=1 rustavailable',
    }),
  },
];

const NORMALISED_SIGNS = new Map(
  CLASSES.map((errorClass) => [
    errorClass.id,
    errorClass.signs.map((sign) => sign.map((phrase) => normalizeErrorText(phrase))),
  ]),
);

/** The error class a normalised paste shows, by the most specific sign it holds. */
function classify(text: string, extra: ScriptCheck[] = []): ErrorClassId | null {
  let best: { id: ErrorClassId; score: number } | null = null;
  for (const errorClass of CLASSES) {
    const score = signScore(text, NORMALISED_SIGNS.get(errorClass.id)!);
    if (score > (best?.score ?? 0)) best = { id: errorClass.id, score };
  }
  for (const check of extra) {
    const score = signScore(text, [check.fragments]);
    if (score > (best?.score ?? 0)) best = { id: check.errorClass, score };
  }
  return best?.id ?? null;
}

const ECHO = 'echo >&2 "***';

/**
 * The messages of a tree's scripts/rust_is_available.sh: each run of `echo >&2 "*** ..."` lines between
 * bare `***` lines, split at its shell variables, classified like a paste of it would be.
 */
export function scriptChecks(script: string): ScriptCheck[] {
  const checks: ScriptCheck[] = [];
  let block: { line: number; parts: string[] } | null = null;
  const close = () => {
    if (!block) return;
    const message = block.parts.join(' ');
    const errorClass = classify(normalizeErrorText(message));
    const fragments = message
      .split(/\$\{?\w+\}?/)
      .map(normalizeErrorText)
      .filter((fragment) => fragment.length >= 4);
    if (errorClass && fragments.length > 0) checks.push({ fragments, line: block.line, errorClass });
    block = null;
  };
  for (const [index, line] of script.split('\n').entries()) {
    const trimmed = line.trim();
    if (!trimmed.startsWith(ECHO)) {
      if (!trimmed.startsWith('echo >&2')) close();
      continue;
    }
    const body = trimmed.slice(ECHO.length, trimmed.endsWith('"') ? -1 : undefined).trim();
    if (body === '') close();
    else if (block) block.parts.push(body);
    else block = { line: index + 1, parts: [body] };
  }
  close();
  return checks;
}

function readOptional(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The facts of each indexed kernel tree, read from its scripts/. */
export function seriesFacts(trees: TreeInfo[]): SeriesFacts[] {
  return trees.flatMap((tree) => {
    if (!tree.kernelVersion) return [];
    return [
      {
        series: kernelSeries(tree.kernelVersion),
        kernelVersion: tree.kernelVersion,
        minimums: parseMinToolVersions(readOptional(join(tree.root, 'scripts/min-tool-version.sh'))),
        checks: scriptChecks(readOptional(join(tree.root, 'scripts/rust_is_available.sh'))),
      },
    ];
  });
}

export interface ExplainerSources {
  trees: TreeInfo[];
  passages: Passage[];
  faq: FaqEntry[];
  defaultSeries: string | null;
}

export interface ExplainedError {
  answer: Answer;
  /** The kernel series the message named, or null. */
  askedVersion: string | null;
}

const SCRIPT = 'scripts/rust_is_available.sh';

/** `explain(message)`: the answer to a known error in it, or null for a message with none. */
export function createErrorExplainer(sources: ExplainerSources): (message: string) => ExplainedError | null {
  const facts = seriesFacts(sources.trees);
  const faqPassages = new Map(
    sources.passages.filter((p) => p.kind === 'faq').map((p) => [p.path.replace(/\.md$/, ''), p]),
  );
  const docPassage = (version: string | null, doc: { path: string; section: string }) =>
    sources.passages.find(
      (p) => p.path === doc.path && p.sectionPath.at(-1) === doc.section && p.kernelVersion === version,
    );
  return (message) => {
    const text = normalizeErrorText(message);
    const askedVersion = askedKernelVersion(message);
    const named = facts.find((f) => f.series === askedVersion);
    const fallback = facts.find((f) => f.series === sources.defaultSeries) ?? facts[0] ?? null;
    const id = classify(text, (named ?? fallback)?.checks);
    if (!id) return null;
    // A message the default series' script cannot print (rustc "too new" after v6.11) comes from a
    // series whose script can, when the user names none.
    const printsIt = (f: SeriesFacts) => f.checks.some((check) => check.errorClass === id);
    const series =
      named ??
      (fallback && fallback.checks.length > 0 && !printsIt(fallback) ? facts.find(printsIt) : undefined) ??
      fallback;
    const errorClass = CLASSES.find((c) => c.id === id)!;
    const citations: Citation[] = [];
    const doc = errorClass.doc && docPassage(series?.kernelVersion ?? null, errorClass.doc);
    if (doc)
      citations.push({ title: doc.sectionPath.join(' › '), url: doc.url, kernelVersion: doc.kernelVersion });
    const check = series?.checks.find((c) => c.errorClass === id && signScore(text, [c.fragments]) > 0);
    if (series && check)
      citations.push({
        title: `${SCRIPT}, line ${check.line}`,
        url: kernelSourceUrl(series.kernelVersion, SCRIPT, check.line),
        kernelVersion: series.kernelVersion,
      });
    const entry = sources.faq.find((e) => e.slug === errorClass.faq);
    if (entry) citations.push({ title: `FAQ › ${entry.title}`, url: entry.links[0]!, kernelVersion: null });
    // An explanation without a doc to check it against is not one we give.
    if (citations.length === 0) return null;
    const explanation = errorClass.explain(series, text);
    const passages = [doc, faqPassages.get(errorClass.faq)].filter((p): p is Passage => p !== undefined);
    return {
      askedVersion,
      answer: {
        kind: 'answer',
        lead: explanation.lead,
        ...(explanation.code ? { code: { language: 'sh', text: explanation.code } } : {}),
        details: [],
        citations,
        kernelVersion: series?.kernelVersion ?? null,
        confidence: 1,
        passages,
        via: 'rule',
      },
    };
  };
}

/**
 * What a newcomer's wording says beyond its words: the kernel version it asks about, and the
 * vocabulary the docs use for what it describes ("autocompletion" is rust-analyzer in the docs).
 * The thesaurus is general newcomer-to-docs vocabulary, not tuned to particular questions.
 */
import { ARCHITECTURE_WORDS, DISTRIBUTION_WORDS, TOOL_WORDS_AT_END } from './vocabulary.ts';

/** How far before a number TOOL_WORDS_AT_END look: "version of rust version " with room for extra spaces. */
const TOOL_WORDS_REACH = 40;
/**
 * A run of word characters and dots that may start with a kernel version ("v6.1", "6.12.3", "6.1.y,"),
 * taken whole so that what follows the version is read once; KERNEL_VERSION then reads its start.
 */
const VERSION_RUN = /(?<![\w.])v?[3-9]\.[\w.]*/gi;
const KERNEL_VERSION = /^v?([3-9])\.(\d{1,2})(?:\.\d+|\.y)?/i;

/** The run's kernel series (6.1) and its version's length; null when a digit follows (6.123, 6.1.2b3). */
function kernelVersionIn(run: string): { series: string; length: number } | null {
  const version = KERNEL_VERSION.exec(run);
  if (!version || /\d/.test(run.slice(version[0].length))) return null;
  return { series: `${version[1]}.${Number(version[2])}`, length: version[0].length };
}

/**
 * The kernel version a question names ("on 6.1", "kernel 6.6", "v6.12", "linux-6.1.y"), as
 * major.minor, or null. Versions of tools (rustc 1.62, bindgen 0.69, Ubuntu 24.04, GCC 8.1) don't count.
 */
export function askedKernelVersion(question: string): string | null {
  for (const match of question.matchAll(VERSION_RUN)) {
    const version = kernelVersionIn(match[0]);
    const before = question.slice(Math.max(0, match.index - TOOL_WORDS_REACH), match.index);
    if (version && !TOOL_WORDS_AT_END.test(before)) return version.series;
  }
  return null;
}

/** The question with each mention of kernel `series` (as askedKernelVersion reads them) blanked out. */
export function withoutKernelVersion(question: string, series: string): string {
  return question.replace(VERSION_RUN, (run) => {
    const version = kernelVersionIn(run);
    return version?.series === series ? ` ${run.slice(version.length)}` : run;
  });
}

/** Asking which version is needed: a need word, then a tool or "version" later on the same line. */
const NEED_WORD = /\b(which|what|minimum|min|required?|supported|need(s|ed)?)\b/i;
const VERSION_WORD = /\b(versions?|rustc|bindgen|clang|llvm|gcc)\b/i;
const ASKS_FOR_VERSION = {
  // From the first need word only: any later one has less of the line after it, so one scan per line.
  test: (question: string) =>
    question.split('\n').some((line) => {
      const need = NEED_WORD.exec(line);
      return need !== null && VERSION_WORD.test(line.slice(need.index + need[0].length));
    }),
};

/** [pattern in the question, words the docs use for it]. */
const THESAURUS: [Pick<RegExp, 'test'>, string][] = [
  [
    /\b(ide|editor|vs ?code|vim|neovim|emacs|autocomplet\w*|go[- ]to[- ]definition|lsp|language server)\b/i,
    'rust-analyzer',
  ],
  [
    /\b(gr[ae]y(ed)?[- ]out|hidden|not (shown|visible|showing)|can'?t (find|see|select|enable)|missing|does ?n[o']t (appear|show))\b/i,
    'configuration depends RUST_IS_AVAILABLE HAVE_RUST menuconfig requirements',
  ],
  [ASKS_FOR_VERSION, 'needs at least min-tool-version'],
  [
    /\btoo (new|old)\b|\bmismatch\w*\b|\bunsupported version\b/i,
    'minimum version rustavailable requirements',
  ],
  [/\bdoc[- ]?tests?\b/i, 'documentation tests KUnit'],
  [/\b(unit[- ]?tests?|testing|tests?)\b/i, 'KUnit rusttest testing'],
  [/\b(print\w*|log(ging)?|printk|debug output)\b/i, 'pr_info printing'],
  [/\b(module )?param(eter)?s?\b/i, 'module_param parameters'],
  [
    /\b(where (can|do|should) i ask|who (can|do) i ask|get help|chat|questions?)\b/i,
    'Zulip mailing list contact',
  ],
  [
    /\b(pull requests?|prs?|github|send (a )?patch\w*|contribut\w*|upstream\w*)\b/i,
    'submitting patches mailing list contributing',
  ],
  [
    /\b(get(ting)? involved|involved|help out|participat\w*|join\w*|get started|where (do|should) i start|first (task|issue|patch))\b/i,
    'ways to contribute contributing finding tasks',
  ],
  [/\b(network\w*|netdev|netlink|ethernet|sockets?|tcp|udp)\b/i, 'net networking'],
  [/\b(crates\.io|docs\.rs|publish\w*|cargo)\b/i, 'code documentation rustdoc out-of-tree'],
  [
    /\b(dependenc\w*|cargo\.toml|third[- ]party|external crates?|vendor\w*)\b/i,
    'third-party crates importing',
  ],
  [
    /#\s*if(def)?\b|\bIS_(ENABLED|BUILTIN|MODULE)\b|\bconditional\w*\b|\bonly (compiled|built) (when|if)\b/i,
    'conditional compilation cfg',
  ],
  [/\b(rfl|r4l|rust4linux|rust-for-linux)\b/i, 'Rust for Linux'],
  [DISTRIBUTION_WORDS, 'distributions'],
  [/\bnixos\b|\bshell\.nix\b|\bnix-shell\b/i, 'Nix'],
  [/\bmodule_exit\b|\bexit\(\)|\bunload\w*\b|\bcleanup\b|\b__exit\b|\brmmod\b/i, 'Drop exit unloaded'],
  [/\bspatch\b|\bsemantic patch\w*|\bcocci\w*/i, 'Coccinelle'],
  [/\bdevice ?tree\b|\bDT\b|\bof_match\w*|\bcompatible\b/i, 'OF device id table of_match_table'],
  [/\b(ld\.lld|linker)\b/i, 'LLVM lld toolchain'],
  [/\b(compil\w*|build\w*)\b/i, 'building'],
  [/\b(out[- ]of[- ]tree|external module|own module|\.ko)\b/i, 'out-of-tree module Kbuild'],
  [/\brisc-v\b/i, 'riscv'],
  [ARCHITECTURE_WORDS, 'arch support architectures'],
  [/\b(install\w*|set ?up|setup|environment|prerequisites?|requirements?)\b/i, 'requirements quick start'],
  [/\bunsafe\b/i, 'SAFETY comments'],
  [/\b(format\w*|style|rustfmt|lint\w*|clippy)\b/i, 'coding guidelines rustfmt clippy'],
  [/\b(gcc|gccrs|codegen)\b/i, 'rustc_codegen_gcc gccrs'],
];

/** Extra words, in the docs' vocabulary, for what the question describes. */
export function docVocabulary(question: string): string {
  return THESAURUS.filter(([pattern]) => pattern.test(question))
    .map(([, words]) => words)
    .join(' ');
}

/**
 * Text analysis for kernel documentation and for the questions asked about it. Used both when
 * indexing and when turning a question into query terms, so both sides agree on every term.
 *
 * Kernel text mixes prose with identifiers (`CONFIG_RUST=y`, `kernel::prelude`, `pr_info!`,
 * `samples/rust/rust_minimal.rs`, `LLVM=1`, `1.62.0`). Identifiers are kept whole, lowercased and
 * unstemmed, and also split into their parts, so a question naming either the whole or a part finds
 * them. Prose words lose English stop words and are stemmed with lunr's stemmer, as are the
 * alphabetic parts of identifiers (so `rust_minimal` also matches the word "minimal").
 */
import lunr from 'lunr';

/** How a term arose: a prose word, an identifier (whole or a compound part of one), or a word split out of one. */
export type TermKind = 'word' | 'identifier' | 'part';

export type TermSink = (term: string, kind: TermKind) => void;

/**
 * Words, optionally joined into compounds by `::`, `/`, `.`, `=`, `-` or an apostrophe. Separators
 * elsewhere (leading `/`, trailing `!`, `::*`) fall outside a match, which is what we want.
 */
export const COMPOUND = /[\p{L}\p{N}_]+(?:(?:::|[./=\-'\u2019])[\p{L}\p{N}_]+)*/gu;

/** Split order: a compound is split at its weakest joint first, so `a/b.c` yields `a`, `b.c`, `b`, `c`. */
const JOINTS = ['=', '/', '::', '.', '-'] as const;

const VERSION = /^\d+(?:\.\d+)+$/;
const HAS_DIGIT = /\p{N}/u;
const HAS_LOWER = /\p{Ll}/u;
const HAS_UPPER = /\p{Lu}/u;
/** Words of camelCase and PascalCase names: `ThisModule` -> `This`, `Module`. */
const CAMEL_WORDS = /\p{Lu}+(?!\p{Ll})|\p{Lu}?\p{Ll}+|\p{N}+/gu;

/** Terms longer than this are blobs (base64, hex dumps, generated names), not something anyone asks for. */
const MAX_TERM_LENGTH = 80;

/** Contractions and abbreviations lunr's English stop word list lacks, as they look once apostrophes go. */
const EXTRA_STOP_WORDS = new Set([
  'dont',
  'doesnt',
  'isnt',
  'cant',
  'wont',
  'im',
  'ive',
  'id',
  'eg',
  'ie',
  'etc',
]);

const stems = new Map<string, string>();
/** Prose vocabulary is bounded but questions are not; past this the memo starts over. */
const MAX_MEMOISED_STEMS = 200_000;

/** lunr's (Porter) stemmer, memoised: the same few thousand words recur millions of times. */
export function stem(word: string): string {
  let stemmed = stems.get(word);
  if (stemmed === undefined) {
    stemmed = lunr.stemmer(new lunr.Token(word, {})).toString();
    if (stems.size >= MAX_MEMOISED_STEMS) stems.clear();
    stems.set(word, stemmed);
  }
  return stemmed;
}

/** lunr's English stop words, plus contractions; expects lowercase. */
export function isStopWord(word: string): boolean {
  return EXTRA_STOP_WORDS.has(word) || lunr.stopWordFilter(new lunr.Token(word, {})) === undefined;
}

/** Calls `sink` with every term of `text`, in order, repeats included (term frequency matters). */
export function forEachTerm(text: string, sink: TermSink): void {
  for (const match of text.matchAll(COMPOUND)) emitCompound(match[0], 'word', sink);
}

/** The terms of `text` as indexed, in order, repeats included. */
export function analyze(text: string): string[] {
  const terms: string[] = [];
  forEachTerm(text, (term) => terms.push(term));
  return terms;
}

/** The distinct terms of `text`, each with the most specific kind it arose as (identifier > word > part). */
export function analyzeDistinct(text: string): Map<string, TermKind> {
  const terms = new Map<string, TermKind>();
  forEachTerm(text, (term, kind) => {
    const known = terms.get(term);
    if (known === undefined || KIND_RANK[kind] > KIND_RANK[known]) terms.set(term, kind);
  });
  return terms;
}

const KIND_RANK: Record<TermKind, number> = { part: 0, word: 1, identifier: 2 };

/** `simpleKind` is the kind a joint-free piece gets: 'word' at the top level, 'part' inside a compound. */
function emitCompound(raw: string, simpleKind: 'word' | 'part', sink: TermSink): void {
  if (raw.includes("'") || raw.includes('\u2019')) {
    // Possessives and contractions are prose: "kernel's" -> kernel, "don't" -> dont (a stop word).
    emitCompound(raw.replace(/['\u2019]s$/u, '').replace(/['\u2019]/gu, ''), simpleKind, sink);
    return;
  }
  const joint = JOINTS.find((candidate) => raw.includes(candidate));
  if (joint === undefined) {
    emitSimple(raw, simpleKind, sink);
    return;
  }
  if (VERSION.test(raw)) {
    // 1.62.0 also answers to 1.62; its numbers alone mean nothing.
    if (raw.length <= MAX_TERM_LENGTH) sink(raw, 'identifier');
    const majorMinor = /^\d+\.\d+/.exec(raw)?.[0];
    if (majorMinor !== undefined && majorMinor !== raw) sink(majorMinor, 'identifier');
    return;
  }
  const pieces = raw.split(joint);
  // e.g, i.e, x=y: nothing anyone looks up.
  if (pieces.every((piece) => piece.length < 2)) return;
  const whole = raw.toLowerCase();
  if (whole.length <= MAX_TERM_LENGTH) sink(whole, 'identifier');
  for (const piece of pieces) if (piece !== '') emitCompound(piece, 'part', sink);
}

function emitSimple(raw: string, kind: 'word' | 'part', sink: TermSink): void {
  if (raw.length < 2 || raw.length > MAX_TERM_LENGTH) return;
  const lower = raw.toLowerCase();
  const allCaps = !HAS_LOWER.test(raw) && HAS_UPPER.test(raw);
  const camel = HAS_UPPER.test(raw.slice(1)) && HAS_LOWER.test(raw);
  if (raw.includes('_') || HAS_DIGIT.test(raw) || camel) {
    sink(lower, 'identifier');
    const words = raw.includes('_') ? raw.split('_') : camel ? (raw.match(CAMEL_WORDS) ?? []) : [];
    for (const word of words) if (word !== '') emitSimple(word, 'part', sink);
    return;
  }
  if (isStopWord(lower)) return;
  if (allCaps) {
    // LLVM, GCC, KUNIT: names, kept as written; the stem too, so "CONFIGS" still meets "configs".
    sink(lower, kind === 'part' ? 'part' : 'identifier');
    const stemmed = stem(lower);
    if (stemmed !== lower) sink(stemmed, kind);
    return;
  }
  sink(stem(lower), kind);
}

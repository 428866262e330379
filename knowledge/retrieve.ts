/**
 * From a question to ranked passages and a calibrated confidence.
 *
 * Ranking: the index scores the question's own terms, plus the docs' vocabulary for what it describes
 * at a lower weight; one passage per section survives, from the version the question names, else from
 * the default series (kernel.default), with unversioned trees (mainline docs, websites) as today. Confidence: how much of the question's distinctive vocabulary (idf-weighted) the best
 * passages actually contain — an off-topic question ("a Windows kernel driver crate") shares only common
 * words with the docs, so its rare words go unmatched and confidence stays low.
 */
import { compareVersions, kernelSeries } from '../jobs/kernel/version.ts';
import type { Hit, Retrieval } from './answer-types.ts';
import type { Passage } from './passage.ts';
import { askedKernelVersion, docVocabulary, withoutKernelVersion } from './query-hints.ts';
import { type QueryTerm, queryTerms, type SearchIndex } from './search-index.ts';
import { nameTerms, prose } from './subject-words.ts';
import { analyze, analyzeDistinct, isStopWord, stem } from './tokenize.ts';
import { DOMAIN_WORDS, OTHER_PLATFORM_WORDS } from './vocabulary.ts';

/**
 * Weight of words found only in a fenced paste next to the question's own: a build log says much
 * (paths, every flag, other crates) besides what went wrong, while the asker's sentences say what they
 * ask. Real public questions (public-tuning.jsonl): recall@5 0.767 -> 0.833, the other sets unchanged.
 */
const PASTED_WEIGHT = 0.5;
/** Weight of thesaurus words next to the question's own. */
const HINT_BOOST = 0.7;
/** Candidates fetched before collapsing versions; more than any answer shows. */
const CANDIDATES = 60;
/**
 * The bot's askers are Rust-for-Linux newcomers: Rust-specific material (Documentation/rust, samples/rust,
 * rust/, the tool versions, the FAQ, Rust-for-Linux sites) answers them far more often than the general
 * kernel docs indexed beside it, which still win when they match much better.
 */
const GENERAL_DOCS_PRIOR = 0.4;
/** Words that say how a question is asked, not what it is about. */
const FILLER =
  /\b(i'?m|i'?ve|i|we|my|our|you|your|please|thanks?|hi|hello|hey|want(ed)?|would|could|should|like|way|best|just|also|only|still|really|actually|anything|something|someone|anyone|get|got|getting|try(ing)?|tried|see|seems?|know|does|did|do|is|are|was|there|what'?s|how|why|where|when|which|who|can|any)\b/gi;
/**
 * A question naming an indexed version is answered from that version's passages ahead of unversioned
 * ones (the FAQ, websites), and other versions' passages fall back.
 */
const ASKED_VERSION_BOOST = 2;
/**
 * A question naming no version is about the default series: other series' passages (a section whose
 * heading changed between releases, an API since renamed) count this much, so they neither crowd out
 * nor repeat the default series' answer, yet still answer what only they cover.
 */
const OTHER_SERIES_PRIOR = 0.5;
/** Passages whose content counts toward coverage. */
const COVERAGE_DEPTH = 3;

export interface RetrieveOptions {
  limit?: number;
  /** Overrides of the weights above, for tuning runs. */
  hintBoost?: number;
  generalDocsPrior?: number;
  /** The series a question naming none is answered from; null: the newest tree's. */
  defaultSeries?: string | null;
}

export function retrieve(index: SearchIndex, question: string, options: RetrieveOptions = {}): Retrieval {
  const limit = options.limit ?? 10;
  const askedVersion = askedKernelVersion(question);
  // The asked version picks passages (below); as a query word it would only match section numbers ("6.1)").
  const topic = stripVersion(question, askedVersion).replace(FILLER, ' ');
  // A word the asker repeats is what they ask about ("…run clippy… without a Cargo.toml… run Clippy?"):
  // BM25's query term frequency, log-damped, which lunr drops by querying distinct terms.
  const repeats = new Map<string, number>();
  for (const term of analyze(prose(topic))) repeats.set(term, (repeats.get(term) ?? 0) + 1);
  const own = queryTerms(topic).map((q) => {
    const said = repeats.get(q.term);
    const weight = said === undefined ? PASTED_WEIGHT : 1 + Math.log(said);
    return weight === 1 ? q : { ...q, boost: q.boost * weight };
  });
  // Read only for a question with words the docs lack (the dictionary loads on first use).
  let names: Set<string> | undefined;
  const namesIn = () => {
    names ??= nameTerms(topic);
    return names;
  };
  const terms = own.map((q) => q.term);
  const hints = queryTerms(docVocabulary(question)).filter((q) => !terms.includes(q.term));
  const hintBoost = options.hintBoost ?? HINT_BOOST;
  const query: QueryTerm[] = [...own, ...hints.map((q) => ({ ...q, boost: q.boost * hintBoost }))];
  // Sentence selection may use the docs' words too; confidence counts only the question's own.
  const allTerms = query.map((q) => q.term);
  const domainTerms = domainVocabulary(index, question);
  if (query.length === 0)
    return { question, hits: [], confidence: 0, terms: allTerms, askedVersion, domainTerms };
  const prior = options.generalDocsPrior ?? GENERAL_DOCS_PRIOR;
  const found = index
    .search(query, { limit: CANDIDATES })
    .map((hit) => (isRustSpecific(hit.passage) ? hit : { ...hit, score: hit.score * prior }));
  const hits = preferVersion(found, askedVersion, options.defaultSeries ?? null).slice(0, limit);
  return {
    question,
    hits,
    confidence: unknownSubject(index, question, topic, namesIn, hits)
      ? 0
      : confidence(index, question, terms, namesIn, hits),
    terms: allTerms,
    askedVersion,
    domainTerms,
  };
}

/**
 * The question's words from the domain vocabulary (knowledge/vocabulary.ts), plus the kernel identifiers it names that the
 * index knows (`CONFIG_DEBUG_FS`, `module_param`, `kernel::sync`): names with `_` or `::` are code, and
 * the docs having them says which code.
 */
export function domainVocabulary(index: SearchIndex, question: string): string[] {
  const words = [...question.matchAll(DOMAIN_WORDS)].map((match) => match[0].toLowerCase());
  const identifiers = [...analyzeDistinct(question)]
    .filter(([term, kind]) => kind === 'identifier' && /_|::/.test(term) && index.hasTerm(term))
    .map(([term]) => term);
  return [...new Set([...words, ...identifiers])];
}

function stripVersion(question: string, version: string | null): string {
  return version === null ? question : withoutKernelVersion(question, version);
}

/** Everything but the general kernel documentation (see GENERAL_DOCS_PRIOR). */
function isRustSpecific(passage: Passage): boolean {
  return !passage.path.startsWith('Documentation/') || passage.path.startsWith('Documentation/rust/');
}

/** Null (an unversioned tree: mainline docs, the FAQ, a website) is newer than any version. */
function isNewer(version: string | null, than: string | null): boolean {
  if (version === null || than === null) return version === null && than !== null;
  return compareVersions(version, than) > 0;
}

function seriesOf(version: string | null): string | null {
  return version === null ? null : kernelSeries(version);
}

/**
 * One hit per section across trees: the asked version's copy when there is one, else the default
 * series' (an unversioned copy still wins then, as it is the newest). A question naming an indexed
 * version moves that version's passages up and other versions' down; one naming none moves other
 * series than the default down.
 */
function preferVersion(hits: Hit[], askedVersion: string | null, defaultSeries: string | null): Hit[] {
  const indexedAsked =
    askedVersion !== null && hits.some((h) => seriesOf(h.passage.kernelVersion) === askedVersion);
  const pinned = indexedAsked ? askedVersion : defaultSeries;
  const weight = (series: string | null): number => {
    if (series === null || pinned === null) return 1;
    if (indexedAsked) return series === pinned ? ASKED_VERSION_BOOST : 1 / ASKED_VERSION_BOOST;
    // A version asked for but not indexed: the answer says so, and no series is the asked one.
    return series === pinned || askedVersion !== null ? 1 : OTHER_SERIES_PRIOR;
  };
  const adjusted = hits.map((hit) => {
    const factor = weight(seriesOf(hit.passage.kernelVersion));
    return factor === 1 ? hit : { ...hit, score: hit.score * factor };
  });
  const best = new Map<string, Hit>();
  for (const hit of adjusted) {
    const key = sectionKey(hit.passage);
    const kept = best.get(key);
    if (!kept || better(hit, kept, pinned, indexedAsked))
      best.set(key, kept ? { ...hit, score: Math.max(hit.score, kept.score) } : hit);
  }
  return [...best.values()].sort((a, b) => b.score - a.score);
}

function sectionKey(p: Passage): string {
  return `${p.kind}|${p.path}|${p.sectionPath.join(' > ')}|${p.id.split('~')[1] ?? ''}`;
}

function better(candidate: Hit, kept: Hit, pinned: string | null, asked: boolean): boolean {
  const [c, k] = [candidate.passage.kernelVersion, kept.passage.kernelVersion];
  const differ = seriesOf(c) !== seriesOf(k);
  if (pinned !== null && differ && (asked || (c !== null && k !== null))) return seriesOf(c) === pinned;
  return isNewer(c, k);
}

/**
 * Forecasts, and topics near ours that the docs do not cover (OTHER_PLATFORM_WORDS: other kernels and
 * languages, application stacks): unless the best passages themselves mention the topic, the question
 * gets "I don't know" and where to ask.
 */
const FORECAST =
  /\b(in )?what year\b|\bbest guess\b|\bpredict\w*\b|\bwhich (kernel )?(release|version) will\b/i;

/**
 * Share of the question's idf mass that the best passages contain. Version numbers don't count: a
 * question quoting "bindgen 0.69" is answered by the passage about bindgen versions, not one naming 0.69.
 */
function confidence(
  index: SearchIndex,
  question: string,
  terms: string[],
  namesIn: () => Set<string>,
  hits: Hit[],
): number {
  const top = hits.slice(0, COVERAGE_DEPTH);
  if (top.length === 0) return 0;
  if (FORECAST.test(question)) return 0;
  const topic = question.match(OTHER_PLATFORM_WORDS)?.[0].toLowerCase();
  if (topic && !top.some((hit) => rawText(hit.passage).toLowerCase().includes(topic))) return 0;
  const found = new Set(top.flatMap((hit) => passageTerms(hit.passage)));
  const content = terms.filter((term) => !/^[\d.]+$/.test(term));
  // Mostly names the docs never use: a question about something else entirely (everyday words the docs
  // lack, "newbie", "sorry", only go unmatched below).
  const absent = content.filter((term) => !index.hasTerm(term));
  if (absent.length > 0 && absent.filter((term) => namesIn().has(term)).length * 2 > content.length) return 0;
  let total = 0;
  let covered = 0;
  for (const term of content) {
    const weight = index.idf(term);
    total += weight;
    if (found.has(term)) covered += weight;
  }
  return total === 0 ? 0 : covered / total;
}

/**
 * Below this share of passages a term is what a question is specifically about; above it, it is the
 * domain's common ground ("rust", "kernel", "build", "driver") that any passage shares.
 */
const DISTINCTIVE_SHARE = 0.05;
/** ...or below this many, so that in a small index (a single tree, a test's) known words still count. */
const DISTINCTIVE_FLOOR = 20;
/**
 * How far the words no passage contains must outweigh the distinctive words the best passages do
 * contain: real questions name a tool or board the docs lack ("an EtherIP network driver") and are
 * still answered from what they match; a made-up subject with little else ("the Rust zorbifier")
 * is not. Both sets agree on 1.3 (docs/retrieval.md).
 */
const UNKNOWN_OVER_MATCHED = 1.3;
/** ...and at least this share of the question's other distinctive words: an aside ("the round trip is slow") in a question full of kernel words is not its subject. */
const UNKNOWN_OVER_KNOWN = 0.5;

/**
 * A question about something the docs never name ("the foo-bar-baz widget", `kernel::quantum_mesh`):
 * the names (subject-words.ts: not everyday words, not pasted logs) no passage contains outweigh the distinctive words the best passages do
 * contain (and the docs' vocabulary for the question, query-hints.ts), so those passages are about the
 * question's surroundings (configuration, drivers, Rust), not its subject. Compounds of known words
 * (`kernel::sync::Arc`, "go-to-definition", "a.rs") and words the thesaurus stands in for
 * ("autocompletion", "Raspberry") are not unknown.
 */
function unknownSubject(
  index: SearchIndex,
  question: string,
  topic: string,
  namesIn: () => Set<string>,
  hits: Hit[],
): boolean {
  const content = [...analyzeDistinct(topic)]
    .filter(([term, kind]) => kind !== 'part' && !/^[\d.]+$/.test(term) && !isStopWord(term))
    .map(([term]) => ({ term, frequency: index.documentFrequency(term) }));
  const absent = content.filter(({ term, frequency }) => frequency === 0 && !isCompoundOfKnown(index, term));
  if (absent.length === 0) return false; // the common case, decided without reading any passage
  const translated = new Set(
    (topic.match(/[\p{L}\p{N}_-]+/gu) ?? [])
      .filter((word) => docVocabulary(word) !== '')
      .flatMap((word) => analyze(word)),
  );
  const unknown = sum(
    absent
      .filter(({ term }) => !translated.has(term))
      .filter(({ term }) => namesIn().has(term))
      .map(({ term }) => index.idf(term)),
  );
  if (unknown === 0) return false;
  const found = new Set(hits.slice(0, COVERAGE_DEPTH).flatMap((hit) => passageTerms(hit.passage)));
  const common = Math.max(DISTINCTIVE_FLOOR, index.documentCount * DISTINCTIVE_SHARE);
  const distinctive = content.filter(({ frequency }) => frequency > 0 && frequency < common);
  const known = sum(distinctive.map(({ term }) => index.idf(term)));
  const hinted = analyze(docVocabulary(question)).filter((term) => {
    const frequency = index.documentFrequency(term);
    return frequency > 0 && frequency < common && !content.some((c) => c.term === term);
  });
  const matched = sum(
    [...distinctive.map(({ term }) => term), ...new Set(hinted)]
      .filter((term) => found.has(term))
      .map((term) => index.idf(term)),
  );
  return unknown >= matched * UNKNOWN_OVER_MATCHED && unknown >= known * UNKNOWN_OVER_KNOWN;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** `kernel::sync::Arc`, `a.rs`: every piece longer than a letter is a term the docs have. */
function isCompoundOfKnown(index: SearchIndex, term: string): boolean {
  const pieces = term.split(/[^\p{L}\p{N}]+/u).filter((piece) => piece.length > 1);
  return (
    pieces.length > 0 &&
    pieces.join('') !== term &&
    pieces.every((piece) => index.hasTerm(piece) || index.hasTerm(stem(piece)))
  );
}

const termCache = new WeakMap<Passage, string[]>();

function rawText(passage: Passage): string {
  return [passage.sectionPath.join(' '), passage.path, passage.text, ...passage.code].join('\n');
}

function passageTerms(passage: Passage): string[] {
  let terms = termCache.get(passage);
  if (!terms) {
    terms = analyze(rawText(passage));
    termCache.set(passage, terms);
  }
  return terms;
}

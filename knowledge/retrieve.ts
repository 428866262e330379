/**
 * From a question to ranked passages and a calibrated confidence.
 *
 * Ranking: the index scores the question's own terms, plus the docs' vocabulary for what it describes
 * at a lower weight; one passage per section survives, from the version the question names, else from
 * the newest tree. Confidence: how much of the question's distinctive vocabulary (idf-weighted) the best
 * passages actually contain — an off-topic question ("a Windows kernel driver crate") shares only common
 * words with the docs, so its rare words go unmatched and confidence stays low.
 */
import type { Hit, Retrieval } from './answer-types.ts';
import type { Passage } from './passage.ts';
import { askedKernelVersion, docVocabulary } from './query-hints.ts';
import { type QueryTerm, queryTerms, type SearchIndex } from './search-index.ts';
import { analyze } from './tokenize.ts';

/** Weight of thesaurus words next to the question's own. */
const HINT_BOOST = 0.3;
/** Candidates fetched before collapsing versions; more than any answer shows. */
const CANDIDATES = 60;
/** Passages whose content counts toward coverage. */
const COVERAGE_DEPTH = 3;

export interface RetrieveOptions {
  limit?: number;
}

export function retrieve(index: SearchIndex, question: string, options: RetrieveOptions = {}): Retrieval {
  const limit = options.limit ?? 10;
  const askedVersion = askedKernelVersion(question);
  const own = queryTerms(question);
  const terms = own.map((q) => q.term);
  const hints = queryTerms(docVocabulary(question)).filter((q) => !terms.includes(q.term));
  const query: QueryTerm[] = [...own, ...hints.map((q) => ({ ...q, boost: q.boost * HINT_BOOST }))];
  if (query.length === 0) return { question, hits: [], confidence: 0, terms, askedVersion };
  const hits = preferVersion(index.search(query, { limit: CANDIDATES }), askedVersion).slice(0, limit);
  return { question, hits, confidence: confidence(index, terms, hits), terms, askedVersion };
}

/** 6.1.192 -> [6, 1, 192]; null (an unversioned tree: mainline docs, the FAQ, a website) sorts newest. */
function versionKey(version: string | null): number[] {
  return version === null ? [Number.POSITIVE_INFINITY] : version.split('.').map((n) => Number.parseInt(n, 10) || 0);
}

function compareVersions(a: string | null, b: string | null): number {
  const [ka, kb] = [versionKey(a), versionKey(b)];
  for (let i = 0; i < Math.max(ka.length, kb.length); i++) {
    const d = (ka[i] ?? 0) - (kb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function seriesOf(version: string | null): string | null {
  return version?.split('.').slice(0, 2).join('.') ?? null;
}

/**
 * One hit per section across trees: the asked version's copy when there is one, else the newest. A
 * question naming a version also moves that version's passages up and other versions' down.
 */
function preferVersion(hits: Hit[], askedVersion: string | null): Hit[] {
  const indexedAsked = askedVersion !== null && hits.some((h) => seriesOf(h.passage.kernelVersion) === askedVersion);
  const adjusted = hits.map((hit) => {
    const series = seriesOf(hit.passage.kernelVersion);
    if (!indexedAsked || series === null) return hit;
    return { ...hit, score: hit.score * (series === askedVersion ? 1.5 : 0.6) };
  });
  const best = new Map<string, Hit>();
  for (const hit of adjusted) {
    const key = sectionKey(hit.passage);
    const kept = best.get(key);
    if (!kept || better(hit, kept, indexedAsked ? askedVersion : null)) best.set(key, kept ? { ...hit, score: Math.max(hit.score, kept.score) } : hit);
  }
  return [...best.values()].sort((a, b) => b.score - a.score);
}

function sectionKey(p: Passage): string {
  return `${p.kind}|${p.path}|${p.sectionPath.join(' > ')}|${p.id.split('~')[1] ?? ''}`;
}

function better(candidate: Hit, kept: Hit, askedVersion: string | null): boolean {
  const [c, k] = [candidate.passage.kernelVersion, kept.passage.kernelVersion];
  if (askedVersion !== null && seriesOf(c) !== seriesOf(k)) return seriesOf(c) === askedVersion;
  return compareVersions(c, k) > 0;
}

/** Share of the question's idf mass found in the best passages, shrunk when the best score is weak. */
function confidence(index: SearchIndex, terms: string[], hits: Hit[]): number {
  if (hits.length === 0 || terms.length === 0) return 0;
  const found = new Set(hits.slice(0, COVERAGE_DEPTH).flatMap((hit) => passageTerms(hit.passage)));
  let total = 0;
  let covered = 0;
  for (const term of terms) {
    const weight = index.idf(term);
    total += weight;
    if (found.has(term)) covered += weight;
  }
  return total === 0 ? 0 : covered / total;
}

const termCache = new WeakMap<Passage, string[]>();

function passageTerms(passage: Passage): string[] {
  let terms = termCache.get(passage);
  if (!terms) {
    terms = analyze([passage.sectionPath.join(' '), passage.path, passage.text, ...passage.code].join('\n'));
    termCache.set(passage, terms);
  }
  return terms;
}

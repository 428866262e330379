/**
 * The search index over passages: lunr's BM25 field scoring (lunr.Builder's formula, field boosts,
 * 3-decimal precision) with our kernel-aware analysis, stored as flat typed arrays.
 *
 * Why not lunr.Index itself: on the whole Documentation/ tree its query path (a FieldRef, a MatchData
 * and a full field-vector dot product per matching field) costs tens of milliseconds per question,
 * and lunr.Index.load spends seconds rebuilding objects. Because every query term is looked up in
 * every field, lunr's score of a document is Σ_terms boost · Σ_fields fieldScore / |query|, so one
 * posting list per term holding each passage's summed field scores ranks exactly as lunr.Index.query
 * does (test/index-search.test.ts checks it against a real lunr.Index), evaluated term at a time.
 * The saved form is those arrays plus the passages as JSON, each decoded only when a hit needs it.
 */
import type { Hit } from './answer-types.ts';
import type { Passage } from './passage.ts';
import { analyzeDistinct, forEachTerm, type TermKind } from './tokenize.ts';

/** One term of a query, as analysed (see `queryTerms`); `prefix` also matches longer terms starting with it. */
export interface QueryTerm {
  term: string;
  boost: number;
  prefix: boolean;
}

export interface SearchOptions {
  /** Most hits returned; 10 by default. */
  limit?: number;
  /** Only passages it accepts are returned (checked best first, so it sees few passages). */
  filter?: (passage: Passage) => boolean;
}

export const FIELDS = ['title', 'text', 'code', 'path'] as const;
export type Field = (typeof FIELDS)[number];

/** Section titles say what a passage is about; prose explains it; code and paths mostly mention things. */
export const FIELD_BOOSTS: Readonly<Record<Field, number>> = { title: 3, text: 2, code: 1, path: 0.5 };

/** A question's identifiers count more than its words; words split out of identifiers count less. */
const KIND_BOOSTS: Record<TermKind, number> = { identifier: 1.5, word: 1, part: 0.5 };

/** A prefix matching more terms than this uses its most common ones, so a short prefix stays cheap. */
const MAX_PREFIX_EXPANSION = 100;

/** lunr.Builder's BM25 defaults. */
const K1 = 1.2;
const B = 0.75;

const MAGIC = 'RFLIDX01';
const FORMAT = 1;

/** The text of each field of a passage, in FIELDS order (also what the benchmark feeds stock lunr). */
export function fieldTexts(passage: Passage): Record<Field, string> {
  return {
    title: [...passage.sectionPath, ...(passage.keywords ?? [])].join('\n'),
    text: passage.text,
    code: passage.code.join('\n'),
    path: passage.path,
  };
}

/** A question as query terms: its distinct analysed terms, boosted by kind. */
export function queryTerms(question: string): QueryTerm[] {
  return [...analyzeDistinct(question)].map(([term, kind]) => ({
    term,
    boost: KIND_BOOSTS[kind],
    prefix: false,
  }));
}

interface IndexData {
  boosts: Record<Field, number>;
  /** Sorted (by UTF-16 code units, as `<` compares), distinct. */
  vocabulary: string[];
  /** Postings of vocabulary[i] are postingDocs/postingScores[termStarts[i] .. termStarts[i + 1]). */
  termStarts: Uint32Array;
  /** Passage numbers, ascending within a term. */
  postingDocs: Uint32Array;
  /** Σ over fields of lunr's field score of the term in the passage. */
  postingScores: Float32Array;
  passages: PassageStore;
}

export class SearchIndex {
  readonly #data: IndexData;
  /** Scratch for one search: score accumulators, and which search last touched each passage. */
  readonly #scores: Float64Array;
  readonly #stamps: Uint32Array;
  #stamp = 0;

  private constructor(data: IndexData) {
    this.#data = data;
    this.#scores = new Float64Array(data.passages.count);
    this.#stamps = new Uint32Array(data.passages.count);
  }

  static build(passages: Passage[], options: { boosts?: Record<Field, number> } = {}): SearchIndex {
    return new SearchIndex(buildData(passages, options.boosts ?? FIELD_BOOSTS));
  }

  /** Reads what `serialize` wrote; throws on anything else (callers rebuild). */
  static load(bytes: Uint8Array): SearchIndex {
    return new SearchIndex(decode(bytes));
  }

  serialize(): Buffer {
    return encode(this.#data);
  }

  get documentCount(): number {
    return this.#data.passages.count;
  }

  get termCount(): number {
    return this.#data.vocabulary.length;
  }

  hasTerm(term: string): boolean {
    return this.#termIndex(term) >= 0;
  }

  /** How many passages contain the term (0 when it is not in the vocabulary). */
  documentFrequency(term: string): number {
    const index = this.#termIndex(term);
    return index < 0 ? 0 : this.#postingCount(index);
  }

  /** BM25 inverse document frequency, as lunr computes it; largest for terms no passage has. */
  idf(term: string): number {
    const n = this.documentFrequency(term);
    return Math.log(1 + Math.abs((this.documentCount - n + 0.5) / (n + 0.5)));
  }

  /** Vocabulary terms starting with `prefix`, most common first, at most `limit`. */
  termsWithPrefix(prefix: string, limit = MAX_PREFIX_EXPANSION): string[] {
    return this.#prefixTerms(prefix, limit).map((index) => this.#data.vocabulary[index]!);
  }

  /** The passage numbered `index` (0 ≤ index < documentCount), in the order they were built from. */
  passage(index: number): Passage {
    return this.#data.passages.get(index);
  }

  /** Passages ranked by lunr's BM25 score for the terms, best first. Unknown terms match nothing. */
  search(terms: QueryTerm[], options: SearchOptions = {}): Hit[] {
    const { limit = 10, filter } = options;
    const weights = this.#termWeights(terms);
    if (weights.size === 0 || limit <= 0) return [];
    let norm = 0;
    for (const weight of weights.values()) norm += weight * weight;
    norm = Math.sqrt(norm);

    const { termStarts, postingDocs, postingScores, passages } = this.#data;
    const scores = this.#scores;
    const stamps = this.#stamps;
    const stamp = this.#nextStamp();
    const matched: number[] = [];
    for (const [index, weight] of weights) {
      for (let p = termStarts[index]!, end = termStarts[index + 1]!; p < end; p++) {
        const doc = postingDocs[p]!;
        if (stamps[doc] !== stamp) {
          stamps[doc] = stamp;
          scores[doc] = 0;
          matched.push(doc);
        }
        scores[doc]! += weight * postingScores[p]!;
      }
    }

    const hits: Hit[] = [];
    const ranked = new RankHeap(matched, scores);
    for (let doc = ranked.pop(); doc !== undefined && hits.length < limit; doc = ranked.pop()) {
      const passage = passages.get(doc);
      if (filter && !filter(passage)) continue;
      hits.push({ passage, score: scores[doc]! / norm });
    }
    return hits;
  }

  /** Vocabulary index -> summed boost, as lunr's query vector sums the boosts of clauses sharing a term. */
  #termWeights(terms: QueryTerm[]): Map<number, number> {
    const weights = new Map<number, number>();
    for (const { term, boost, prefix } of terms) {
      if (!(boost > 0) || term === '') continue;
      const indexes = prefix ? this.#prefixTerms(term, MAX_PREFIX_EXPANSION) : [this.#termIndex(term)];
      for (const index of indexes) if (index >= 0) weights.set(index, (weights.get(index) ?? 0) + boost);
    }
    return weights;
  }

  #nextStamp(): number {
    if (this.#stamp === 0xffffffff) {
      this.#stamps.fill(0);
      this.#stamp = 0;
    }
    return ++this.#stamp;
  }

  #postingCount(index: number): number {
    return this.#data.termStarts[index + 1]! - this.#data.termStarts[index]!;
  }

  #termIndex(term: string): number {
    const vocabulary = this.#data.vocabulary;
    const at = lowerBound(vocabulary, term);
    return vocabulary[at] === term ? at : -1;
  }

  #prefixTerms(prefix: string, limit: number): number[] {
    const vocabulary = this.#data.vocabulary;
    const indexes: number[] = [];
    for (let at = lowerBound(vocabulary, prefix); vocabulary[at]?.startsWith(prefix); at++) indexes.push(at);
    if (indexes.length <= limit) return indexes;
    return indexes.sort((a, b) => this.#postingCount(b) - this.#postingCount(a)).slice(0, limit);
  }
}

/** First position whose term is not less than `term`. */
function lowerBound(sorted: string[], term: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < term) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Max-heap of passage numbers by score (ties: lower number first), so ranking k hits costs O(n + k log n). */
class RankHeap {
  readonly #items: number[];
  readonly #scores: Float64Array;

  constructor(items: number[], scores: Float64Array) {
    this.#items = items;
    this.#scores = scores;
    for (let i = (items.length >>> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  pop(): number | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.#siftDown(0);
    }
    return top;
  }

  #before(a: number, b: number): boolean {
    const scoreA = this.#scores[a]!;
    const scoreB = this.#scores[b]!;
    return scoreA > scoreB || (scoreA === scoreB && a < b);
  }

  #siftDown(start: number): void {
    const items = this.#items;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let best = i;
      if (left < items.length && this.#before(items[left]!, items[best]!)) best = left;
      if (right < items.length && this.#before(items[right]!, items[best]!)) best = right;
      if (best === i) return;
      [items[i], items[best]] = [items[best]!, items[i]!];
      i = best;
    }
  }
}

// ---- building ------------------------------------------------------------------------------------

/** A Uint32Array that grows, for the millions of (term, passage, field, frequency) rows of a build. */
class GrowableUint32 {
  array = new Uint32Array(1 << 16);
  length = 0;

  push(value: number): void {
    if (this.length === this.array.length) {
      const grown = new Uint32Array(this.array.length * 2);
      grown.set(this.array);
      this.array = grown;
    }
    this.array[this.length++] = value;
  }
}

function buildData(passages: Passage[], boosts: Record<Field, number>): IndexData {
  const fieldCount = FIELDS.length;
  const termIds = new Map<string, number>();
  // One row per (term, passage, field) the term occurs in, in passage order: term id, passage, field, tf.
  const rowTerm = new GrowableUint32();
  const rowDoc = new GrowableUint32();
  const rowFieldAndTf = new GrowableUint32();
  const fieldLengths = new Uint32Array(passages.length * fieldCount);
  const termFrequency: number[] = [];
  const touched: number[] = [];

  passages.forEach((passage, doc) => {
    const texts = fieldTexts(passage);
    FIELDS.forEach((field, f) => {
      let length = 0;
      forEachTerm(texts[field], (term) => {
        length++;
        let id = termIds.get(term);
        if (id === undefined) {
          id = termIds.size;
          termIds.set(term, id);
          termFrequency.push(0);
        }
        if (termFrequency[id] === 0) touched.push(id);
        termFrequency[id]!++;
      });
      fieldLengths[doc * fieldCount + f] = length;
      for (const id of touched) {
        rowTerm.push(id);
        rowDoc.push(doc);
        // tf beyond 2^24 in one field does not happen in text; the field number rides in the low byte.
        rowFieldAndTf.push((Math.min(termFrequency[id]!, 0xffffff) << 8) | f);
        termFrequency[id] = 0;
      }
      touched.length = 0;
    });
  });

  const averageLengths = FIELDS.map((_, f) => {
    let total = 0;
    for (let doc = 0; doc < passages.length; doc++) total += fieldLengths[doc * fieldCount + f]!;
    return passages.length === 0 ? 0 : total / passages.length;
  });

  // Vocabulary in sorted order; rank[id] is a term id's place in it.
  const vocabulary = [...termIds.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const rank = new Uint32Array(vocabulary.length);
  vocabulary.forEach((term, index) => {
    rank[termIds.get(term)!] = index;
  });
  termIds.clear();

  // lunr's idf counts a term once per field it occurs in, not once per passage; kept for identical scores.
  const fieldPostings = new Uint32Array(vocabulary.length);
  for (let r = 0; r < rowTerm.length; r++) fieldPostings[rank[rowTerm.array[r]!]!]!++;

  // Counting sort of rows by term rank; stable, so each term's rows stay in passage order.
  const rowStarts = new Uint32Array(vocabulary.length + 1);
  for (let index = 0; index < vocabulary.length; index++) {
    rowStarts[index + 1] = rowStarts[index]! + fieldPostings[index]!;
  }
  const fill = rowStarts.slice(0, vocabulary.length);
  const order = new Uint32Array(rowTerm.length);
  for (let r = 0; r < rowTerm.length; r++) order[fill[rank[rowTerm.array[r]!]!]!++] = r;

  // Merge each term's rows of one passage (one per field) into a posting holding their summed score.
  const termStarts = new Uint32Array(vocabulary.length + 1);
  const postingDocs = new Uint32Array(rowTerm.length);
  const postingScores = new Float32Array(rowTerm.length);
  const fieldBoosts = FIELDS.map((field) => boosts[field]);
  let postings = 0;
  for (let index = 0; index < vocabulary.length; index++) {
    const n = fieldPostings[index]!;
    const idf = Math.log(1 + Math.abs((passages.length - n + 0.5) / (n + 0.5)));
    for (let o = rowStarts[index]!; o < rowStarts[index + 1]!; o++) {
      const r = order[o]!;
      const doc = rowDoc.array[r]!;
      const f = rowFieldAndTf.array[r]! & 0xff;
      const tf = rowFieldAndTf.array[r]! >>> 8;
      const relativeLength = fieldLengths[doc * fieldCount + f]! / averageLengths[f]!;
      const score = (idf * ((K1 + 1) * tf)) / (K1 * (1 - B + B * relativeLength) + tf);
      const rounded = Math.round(score * fieldBoosts[f]! * 1000) / 1000;
      if (postings > termStarts[index]! && postingDocs[postings - 1] === doc) {
        postingScores[postings - 1]! += rounded;
      } else {
        postingDocs[postings] = doc;
        postingScores[postings] = rounded;
        postings++;
      }
    }
    termStarts[index + 1] = postings;
  }

  return {
    boosts: { ...boosts },
    vocabulary,
    termStarts,
    postingDocs: postingDocs.slice(0, postings),
    postingScores: postingScores.slice(0, postings),
    passages: PassageStore.of(passages),
  };
}

// ---- passages ------------------------------------------------------------------------------------

/** Passages in memory after a build, or as JSON in a loaded buffer, parsed the first time a hit needs one. */
class PassageStore {
  readonly #cache: (Passage | undefined)[];
  readonly #json: Uint8Array | null;
  readonly #offsets: Uint32Array | null;
  readonly #decoder = new TextDecoder();

  private constructor(cache: (Passage | undefined)[], json: Uint8Array | null, offsets: Uint32Array | null) {
    this.#cache = cache;
    this.#json = json;
    this.#offsets = offsets;
  }

  static of(passages: Passage[]): PassageStore {
    return new PassageStore([...passages], null, null);
  }

  /** `offsets[i]..offsets[i + 1]` is passage i's JSON in `json`. */
  static encoded(json: Uint8Array, offsets: Uint32Array): PassageStore {
    return new PassageStore(new Array(offsets.length - 1), json, offsets);
  }

  get count(): number {
    return this.#cache.length;
  }

  get(index: number): Passage {
    let passage = this.#cache[index];
    if (passage === undefined) {
      if (!this.#json || !this.#offsets || index < 0 || index >= this.count) {
        throw new RangeError(`no passage ${index}`);
      }
      const bytes = this.#json.subarray(this.#offsets[index], this.#offsets[index + 1]);
      passage = JSON.parse(this.#decoder.decode(bytes)) as Passage;
      this.#cache[index] = passage;
    }
    return passage;
  }
}

// ---- saved form ----------------------------------------------------------------------------------
//
// MAGIC, then a little-endian u32 header length and the header (JSON: format, counts, boosts, and each
// section's byte range), then the sections, each starting at a multiple of 4 so typed arrays can view
// them in place: the vocabulary (terms joined by '\n', which no term contains), termStarts,
// postingDocs, postingScores, passageOffsets, and the passages' JSON back to back.

interface Header {
  format: number;
  boosts: Record<Field, number>;
  termCount: number;
  postingCount: number;
  passageCount: number;
  sections: Record<SectionName, [offset: number, length: number]>;
}

type SectionName =
  | 'vocabulary'
  | 'termStarts'
  | 'postingDocs'
  | 'postingScores'
  | 'passageOffsets'
  | 'passages';

function encode(data: IndexData): Buffer {
  const encoder = new TextEncoder();
  const passageJson = Array.from({ length: data.passages.count }, (_, i) =>
    encoder.encode(JSON.stringify(data.passages.get(i))),
  );
  const passageOffsets = new Uint32Array(passageJson.length + 1);
  passageJson.forEach((json, i) => {
    passageOffsets[i + 1] = passageOffsets[i]! + json.length;
  });
  const parts: Record<SectionName, Uint8Array[]> = {
    vocabulary: [encoder.encode(data.vocabulary.join('\n'))],
    termStarts: [bytesOf(data.termStarts)],
    postingDocs: [bytesOf(data.postingDocs)],
    postingScores: [bytesOf(data.postingScores)],
    passageOffsets: [bytesOf(passageOffsets)],
    passages: passageJson,
  };

  const sections = {} as Header['sections'];
  let offset = 0;
  for (const [name, chunks] of Object.entries(parts) as [SectionName, Uint8Array[]][]) {
    const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    sections[name] = [offset, length];
    offset = align4(offset + length);
  }
  const header: Header = {
    format: FORMAT,
    boosts: data.boosts,
    termCount: data.vocabulary.length,
    postingCount: data.postingDocs.length,
    passageCount: data.passages.count,
    sections,
  };
  const headerBytes = encoder.encode(JSON.stringify(header));
  const bodyStart = align4(MAGIC.length + 4 + headerBytes.length);

  const out = Buffer.alloc(bodyStart + offset);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(headerBytes.length, MAGIC.length);
  out.set(headerBytes, MAGIC.length + 4);
  for (const [name, chunks] of Object.entries(parts) as [SectionName, Uint8Array[]][]) {
    let at = bodyStart + sections[name][0];
    for (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
  }
  return out;
}

function decode(input: Uint8Array): IndexData {
  // Typed array views need 4-byte alignment; Node's pooled small buffers may not have it.
  const bytes = input.byteOffset % 4 === 0 ? input : new Uint8Array(input);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = new TextDecoder('latin1').decode(bytes.subarray(0, MAGIC.length));
  if (bytes.length < MAGIC.length + 4 || magic !== MAGIC) throw new Error('not a saved search index');
  const headerLength = view.getUint32(MAGIC.length, true);
  const header = JSON.parse(
    new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + headerLength)),
  ) as Header;
  if (header.format !== FORMAT)
    throw new Error(`saved search index has format ${header.format}, not ${FORMAT}`);
  const bodyStart = align4(MAGIC.length + 4 + headerLength);

  const section = (name: SectionName): Uint8Array => {
    const [offset, length] = header.sections[name];
    const start = bodyStart + offset;
    if (start + length > bytes.length) throw new Error(`saved search index is truncated (${name})`);
    return bytes.subarray(start, start + length);
  };
  const u32 = (name: SectionName, count: number): Uint32Array => {
    const raw = section(name);
    if (raw.length !== count * 4) throw new Error(`saved search index is damaged (${name})`);
    return new Uint32Array(raw.buffer, raw.byteOffset, count);
  };

  const vocabularyText = new TextDecoder().decode(section('vocabulary'));
  const vocabulary = header.termCount === 0 ? [] : vocabularyText.split('\n');
  if (vocabulary.length !== header.termCount) throw new Error('saved search index is damaged (vocabulary)');
  const scores = section('postingScores');
  if (scores.length !== header.postingCount * 4)
    throw new Error('saved search index is damaged (postingScores)');
  return {
    boosts: header.boosts,
    vocabulary,
    termStarts: u32('termStarts', header.termCount + 1),
    postingDocs: u32('postingDocs', header.postingCount),
    postingScores: new Float32Array(scores.buffer, scores.byteOffset, header.postingCount),
    passages: PassageStore.encoded(section('passages'), u32('passageOffsets', header.passageCount + 1)),
  };
}

function bytesOf(array: Uint32Array | Float32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

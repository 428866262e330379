/**
 * Extractive answers: a short lead made of whole sentences from the best passages, an optional code
 * fragment, and the sources; or, when retrieval is not confident, an honest "I don't know" with where to
 * ask and what to include. Nothing here invents text about the kernel: every fact comes from a passage.
 */
import { compareVersions, kernelSeries } from '../jobs/kernel/version.ts';
import type { Answer, Citation, Hit, Retrieval } from './answer-types.ts';
import { OFF_TOPIC_REPLY, ruleAnswer } from './intent.ts';
import type { Passage } from './passage.ts';
import { analyzeDistinct, isStopWord, stem } from './tokenize.ts';

export interface ComposeOptions {
  /** Below this retrieval confidence the answer is an abstention. */
  minConfidence: number;
  /** At most this many links on the "Sources:" line. */
  maxSources: number;
}

export const ABSTAIN_LEAD = "I don't know that one — I couldn't find it in the docs I index.";

const WHERE_TO_ASK =
  'People who know hang out on the Rust-for-Linux Zulip (https://rust-for-linux.zulipchat.com) and the mailing list rust-for-linux@vger.kernel.org (archive: https://lore.kernel.org/rust-for-linux/).';

const QUESTION_TEMPLATE = [
  'A question they can answer quickly says:',
  '• kernel version (e.g. 6.1.y, or the commit) and how Rust was enabled (defconfig + CONFIG_RUST=y, distro config, …)',
  '• toolchain versions, as printed by `make LLVM=1 rustavailable`',
  '• what you ran, and the exact error (copied, not paraphrased)',
];

const CLOSEST_DOCS = 'The links below are the closest docs I found; they may not answer it.';

/** Lead budget in characters; whole sentences only, so one long sentence may exceed it. */
const MAX_LEAD = 450;
const MAX_SENTENCES = 3;
const MAX_CODE_LINES = 8;
/**
 * How much the asked words of a sentence's heading count for it, next to its own: the heading says what
 * the section is about, but among a section's sentences the one saying the asked words itself answers.
 */
const HEADING_SHARE = 0.5;
/** Our FAQ entries open with their answer (docs/faq.md), so their first sentence counts more. */
const FAQ_OPENING = 1.3;
/** How much a sentence from the 2nd and 3rd passage counts next to one from the best passage. */
const RANK_WEIGHT = [1, 0.6, 0.45];

export function composeAnswer(retrieval: Retrieval, options: ComposeOptions): Answer {
  const top = retrieval.hits[0];
  if (!top || retrieval.confidence < options.minConfidence) return abstain(retrieval, options);
  const weights = termWeights(retrieval);
  const { lead, code } =
    top.passage.kind === 'tool-versions'
      ? { lead: toolVersionsLead(top.passage, weights), code: undefined }
      : proseLead(retrieval, weights);
  return {
    kind: 'answer',
    lead,
    ...(code ? { code } : {}),
    details: [],
    citations: citationsFor(retrieval.hits, options.maxSources, retrieval.terms),
    kernelVersion: top.passage.kernelVersion,
    confidence: retrieval.confidence,
    passages: retrieval.hits.map((hit) => hit.passage),
    via: 'extractive',
  };
}

function abstain(retrieval: Retrieval, options: ComposeOptions): Answer {
  // A near miss may still help as a pointer; far misses get no docs dump.
  const nearMiss = retrieval.confidence >= options.minConfidence / 2;
  // A far miss without a word of the domain is about something else entirely: one line, not the
  // kernel question template.
  if (!nearMiss && retrieval.domainTerms?.length === 0) return offTopic(retrieval);
  const citations = nearMiss ? citationsFor(retrieval.hits, options.maxSources, retrieval.terms) : [];
  return {
    kind: 'abstain',
    lead: ABSTAIN_LEAD,
    details: abstentionDetails(citations),
    citations,
    kernelVersion:
      citations.length > 0 ? (retrieval.hits[0]?.passage.kernelVersion ?? null) : retrieval.askedVersion,
    confidence: retrieval.confidence,
    passages: retrieval.hits.map((hit) => hit.passage),
    via: 'extractive',
  };
}

/**
 * A drafted answer declined after all (the configured model read its passages and found no answer
 * there): "I don't know" with where to ask, and the draft's sources offered as the closest docs.
 */
export function declined(answer: Answer): Answer {
  const { code: _drafted, ...draft } = answer;
  return {
    ...draft,
    kind: 'abstain',
    lead: ABSTAIN_LEAD,
    details: abstentionDetails(answer.citations),
  };
}

/** Where to ask and what to include; with sources, a word that they are only the closest docs. */
function abstentionDetails(citations: Citation[]): string[] {
  return [WHERE_TO_ASK, ...QUESTION_TEMPLATE, ...(citations.length > 0 ? [CLOSEST_DOCS] : [])];
}

/**
 * An answer to a question naming a kernel version the knowledge base has no docs for says so up front,
 * and which version it comes from, instead of passing another version's docs off as the asked one's.
 * `indexed` are the versions of the indexed trees (6.1.192, 6.6.10).
 */
export function withVersionNote(answer: Answer, askedVersion: string | null, indexed: string[]): Answer {
  if (answer.kind !== 'answer' || askedVersion === null) return answer;
  const series = [...new Set(indexed.map(kernelSeries))].sort(compareVersions);
  if (series.includes(askedVersion)) return answer;
  const have =
    series.length === 0
      ? 'I have no versioned kernel docs indexed'
      : `I only have the ${joinVersions(series)} docs indexed`;
  const from = answer.kernelVersion === null ? null : kernelSeries(answer.kernelVersion);
  const source = from ? `this is from ${from}` : 'this answer comes from docs not tied to a kernel version';
  return { ...answer, lead: `You asked about ${askedVersion}, but ${have}; ${source}. ${answer.lead}` };
}

function joinVersions(versions: string[]): string {
  return versions.length <= 1
    ? versions.join('')
    : `${versions.slice(0, -1).join(', ')} and ${versions.at(-1)}`;
}

function offTopic(retrieval: Retrieval): Answer {
  const answer = ruleAnswer({ intent: 'off-topic', reply: OFF_TOPIC_REPLY })!;
  return { ...answer, confidence: retrieval.confidence };
}

/** The link of one passage as the "Sources:" line shows it. */
export function citationFor(passage: Passage): Citation {
  return { title: passage.sectionPath.join(' › '), url: passage.url, kernelVersion: passage.kernelVersion };
}

/**
 * Up to `max` distinct links, best first. Hits far below the best one are left out: a source line
 * that points at unrelated pages costs the reader more than it helps. So is, after the first, an API
 * item whose name the question does not mention: "hello world" matched `UserSliceWriter::write` on
 * the word "write", which is not a source for it.
 */
function citationsFor(hits: Hit[], max: number, terms: string[]): Citation[] {
  const best = hits[0]?.score ?? 0;
  const asked = new Set(terms);
  const citations: Citation[] = [];
  for (const [rank, hit] of hits.entries()) {
    if (citations.length >= max) break;
    if (rank > 0 && best > 0 && hit.score < best * 0.3) break;
    if (rank > 0 && hit.passage.kind === 'rust-doc' && !namesAsked(hit.passage, asked)) continue;
    if (citations.some((citation) => citation.url === hit.passage.url)) continue;
    citations.push(citationFor(hit.passage));
  }
  return citations;
}

/**
 * Does the question name the API item (`KVec`, `pr_info!`, `Mutex`) or a module on its path (`print`,
 * `sync`)? Whole names only: `UserSliceWriter::write` is not named by the word "write".
 */
function namesAsked(passage: Passage, asked: Set<string>): boolean {
  return passage.sectionPath
    .slice(1)
    .some((name) => [...analyzeDistinct(name)].some(([term, kind]) => kind !== 'part' && asked.has(term)));
}

// ---- terms -------------------------------------------------------------------------------------

/** Term stem -> weight; terms the asker wrote count more than vocabulary retrieval added. */
type TermWeights = Map<string, number>;

function termWeights(retrieval: Retrieval): TermWeights {
  const asked = new Set(wordsOf(retrieval.question).map(stem));
  const weights: TermWeights = new Map();
  for (const term of retrieval.terms) {
    const key = isPlainWord(term) ? stem(term.toLowerCase()) : term.toLowerCase();
    if (key.length < 2 || isStopWord(key)) continue;
    const weight = asked.has(key) || !isPlainWord(term) ? 1 : 0.5;
    weights.set(key, Math.max(weights.get(key) ?? 0, weight));
  }
  if (weights.size === 0) {
    for (const word of wordsOf(retrieval.question)) if (!isStopWord(word)) weights.set(stem(word), 1);
  }
  return weights;
}

function wordsOf(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? [];
}

function isPlainWord(term: string): boolean {
  return /^[\p{L}\p{N}_]+$/u.test(term);
}

/** The terms a piece of text contains (stems, with prefix matches for long stems: config ~ configuration). */
function matchedTerms(text: string, weights: TermWeights): Set<string> {
  const lower = text.toLowerCase();
  const stems = new Set<string>();
  for (const word of wordsOf(text)) {
    stems.add(stem(word));
    for (const part of word.split('_')) if (part !== word && part !== '') stems.add(stem(part));
  }
  const matched = new Set<string>();
  for (const key of weights.keys()) {
    if (!isPlainWord(key)) {
      // "rust-analyzer", "llvm=1": verbatim, or every longer word of it present
      const parts = wordsOf(key).filter((part) => part.length > 1);
      if (lower.includes(key) || (parts.length > 0 && parts.every((part) => stems.has(stem(part)))))
        matched.add(key);
    } else if (stems.has(key) || (key.length >= 5 && [...stems].some((s) => s.startsWith(key)))) {
      matched.add(key);
    }
  }
  return matched;
}

/** Weights scaled by how rare each term is among the candidates: a term every sentence has tells none apart. */
function withIdf(weights: TermWeights, candidates: Set<string>[]): TermWeights {
  const specific: TermWeights = new Map();
  for (const [term, weight] of weights) {
    const frequency = Math.max(1, candidates.filter((terms) => terms.has(term)).length);
    specific.set(term, weight * Math.log(1 + candidates.length / frequency));
  }
  return specific;
}

function scoreOf(terms: Set<string>, weights: TermWeights): number {
  let score = 0;
  for (const term of terms) score += weights.get(term) ?? 0;
  return score;
}

// ---- prose -------------------------------------------------------------------------------------

interface Sentence {
  text: string;
  rank: number; // of the passage among the hits
  index: number; // in the passage
  paragraph: number;
  /** The first sentence of an FAQ entry, which we write to state the answer. */
  opensFaq: boolean;
  /** For a sentence that introduces a literal block ("… can be used:"), the index of that block. */
  introducesCode: number | null;
  terms: Set<string>;
  /**
   * The terms of the passage's heading, which says what each of its sentences is about ("What does
   * rustavailable check?" over "It checks that …"): they rank the passage's sentences against other
   * passages' but not against each other.
   */
  heading: Set<string>;
  score: number;
  /** The part of the score from the sentence's own words: among sentences its heading scores alike, it decides. */
  own: number;
}

function proseLead(retrieval: Retrieval, weights: TermWeights): { lead: string; code?: Answer['code'] } {
  const hits = retrieval.hits.slice(0, RANK_WEIGHT.length);
  const bestScore = hits[0]?.score ?? 0;
  const sentences = hits.flatMap((hit, rank) =>
    rank > 0 && hit.score < bestScore * 0.5 ? [] : sentencesOf(hit.passage, rank, weights),
  );
  const specific = withIdf(
    weights,
    sentences.map((sentence) => sentence.terms),
  );
  for (const sentence of sentences) {
    const weight =
      (RANK_WEIGHT[sentence.rank] ?? 0) *
      lengthFactor(sentence.text) *
      (isMeta(sentence.text) ? 0 : 1) *
      (sentence.opensFaq ? FAQ_OPENING : 1);
    const own = scoreOf(sentence.terms, specific);
    // Only for a sentence that says something asked itself: a heading alone answers nothing.
    const context = own > 0 ? scoreOf(without(sentence.heading, sentence.terms), specific) : 0;
    sentence.score = (own + HEADING_SHARE * context) * weight;
    sentence.own = own * weight;
  }
  let chosen = chooseSentences(sentences);
  const top = retrieval.hits[0]!.passage;
  const announcer = chosen.find((s) => s.rank === 0 && s.introducesCode !== null);
  const code = codeFor(top, announcer?.introducesCode ?? null, chosen, specific, retrieval.question);
  // The block comes right after the sentence announcing it: the lead ends there unless what follows
  // it is the better part of the answer.
  const at = announcer && code ? chosen.indexOf(announcer) : -1;
  const best = Math.max(...chosen.map((s) => s.score));
  if (at >= 0 && chosen.slice(0, at + 1).some((s) => s.score === best)) chosen = chosen.slice(0, at + 1);
  // "… can be used:" keeps its colon only where its block follows right after the lead; elsewhere it
  // ends in a period, and a bare "That is:" says nothing without its block.
  const lead = chosen
    .flatMap((sentence, i) => {
      if (!sentence.text.endsWith(':') || (i === chosen.length - 1 && code)) return [sentence.text];
      return sentence.text.length < 30 && chosen.length > 1 ? [] : [withoutColon(sentence.text)];
    })
    .join(' ');
  return code ? { lead, code } : { lead };
}

function without(terms: Set<string>, others: Set<string>): Set<string> {
  return new Set([...terms].filter((term) => !others.has(term)));
}

function withoutColon(sentence: string): string {
  return sentence.replace(/,?\s*(\b(e\.g|i\.e)\.|\bfor (example|instance)|\bas follows)?:$/i, '.');
}

function sentencesOf(passage: Passage, rank: number, weights: TermWeights): Sentence[] {
  const sentences: Sentence[] = [];
  let codeIndex = 0;
  const heading = matchedTerms(passage.sectionPath.join(' '), weights);
  const paragraphs =
    passage.kind === 'tool-versions'
      ? toolVersionFacts(passage).map((fact) => fact.text)
      : paragraphsOf(passage.text);
  for (const [paragraph, text] of paragraphs.entries()) {
    const units = splitSentences(text);
    const introduces = text.endsWith(':') && codeIndex < passage.code.length ? codeIndex++ : null;
    for (const [i, unit] of units.entries()) {
      if (!/\p{L}{2}/u.test(unit.replace(/https?:\/\/\S+/g, ''))) continue; // a bare link says nothing alone
      sentences.push({
        text: unit,
        rank,
        index: sentences.length,
        paragraph,
        opensFaq: passage.kind === 'faq' && sentences.length === 0,
        introducesCode: i === units.length - 1 ? introduces : null,
        terms: matchedTerms(unit, weights),
        heading,
        score: 0,
        own: 0,
      });
    }
  }
  return sentences;
}

/** Very short fragments say little and very long sentences crowd the lead out. */
function lengthFactor(text: string): number {
  if (text.length < 25) return 0.5;
  if (text.length > 300) return 0.7;
  return 1;
}

/** Sentences about the document rather than its subject ("This section explains …"). */
function isMeta(text: string): boolean {
  return /^(this|the following) (section|document|chapter|page|guide)\b/i.test(text);
}

/**
 * The best sentence first, then the next best in document order, each together with the sentence
 * before it when it leans on that one ("This triggers …"), within the sentence and length budget.
 */
function chooseSentences(sentences: Sentence[]): Sentence[] {
  const ranked = sentences.filter((s) => s.score > 0).sort(byScore);
  const best = ranked[0];
  if (!best) return fallbackSentences(sentences);
  // A short best section is one complete thought: all of it reads better than a piece of it.
  const whole = sentences.filter((s) => s.rank === 0 && !isMeta(s.text));
  if (best.rank === 0 && whole.length <= MAX_SENTENCES && lengthOf(whole) <= MAX_LEAD) return whole;
  const withContext = (sentence: Sentence): Sentence[] => {
    const previous = sentences.find((s) => s.rank === sentence.rank && s.index === sentence.index - 1);
    return previous && leansOnPrevious(sentence.text) ? [previous, sentence] : [sentence];
  };
  const bestGroup = withContext(best);
  const chosen = lengthOf(bestGroup) <= MAX_LEAD ? bestGroup : [best];
  const covered = new Set(chosen.flatMap((s) => [...s.terms]));
  for (const candidate of ranked) {
    if (chosen.includes(candidate)) continue;
    // A neighbour in the same paragraph reads as one thought with what is chosen, so it may score lower.
    const adjacent = chosen.some(
      (s) =>
        s.rank === candidate.rank &&
        s.paragraph === candidate.paragraph &&
        Math.abs(s.index - candidate.index) === 1,
    );
    if (candidate.score < best.score * (adjacent ? 0.25 : 0.4)) continue;
    if (!adjacent && [...candidate.terms].every((term) => covered.has(term))) continue;
    const group = withContext(candidate).filter((s) => !chosen.includes(s));
    if (chosen.length + group.length > MAX_SENTENCES || lengthOf([...chosen, ...group]) > MAX_LEAD) continue;
    chosen.push(...group);
    for (const s of group) for (const term of s.terms) covered.add(term);
  }
  // The sentence carrying the asked fact leads, unless it continues another ("In addition, …"); the
  // rest follows in document order.
  const leading = continuesAnother(best.text) ? [] : chosen.filter((s) => bestGroup.includes(s));
  const rest = chosen.filter((s) => !leading.includes(s));
  return [...leading, ...rest.sort((a, b) => a.rank - b.rank || a.index - b.index)];
}

/** Best first; a tie (a heading that says every asked word scores a section's sentences alike) goes to the
 * sentence saying more of the question itself, then to the earlier one. */
function byScore(a: Sentence, b: Sentence): number {
  if (Math.abs(b.score - a.score) > 1e-9) return b.score - a.score;
  return b.own - a.own || a.rank - b.rank || a.index - b.index;
}

function lengthOf(sentences: Sentence[]): number {
  return sentences.reduce((sum, s) => sum + s.text.length + 1, 0);
}

/** Opens with a connective that reads as a follow-up, not as an answer's first sentence. */
function continuesAnother(text: string): boolean {
  return /^(in addition|additionally|alternatively|similarly|likewise|therefore|moreover|furthermore|for (example|instance)|otherwise|however|also|but)\b/i.test(
    text,
  );
}

function leansOnPrevious(text: string): boolean {
  return /^((most|some|all|many|none|each|both|one|either|neither) of (them|these|those)|in (this|that|such a|either) case|this|its?|their|these|that|they|then|later|earlier|since then|otherwise|however|thus|so|also)\b/i.test(
    text,
  );
}

/** Nothing matched: the opening of the best section, which usually says what it is about. */
function fallbackSentences(sentences: Sentence[]): Sentence[] {
  const opening = sentences.filter((s) => s.rank === 0 && !isMeta(s.text));
  const chosen = opening.slice(0, 1);
  const second = opening[1];
  if (second && lengthOf([...chosen, second]) <= MAX_LEAD) chosen.push(second);
  return chosen;
}

// ---- code --------------------------------------------------------------------------------------

/**
 * The best passage's code block, when the lead announces it or it matches the question better than
 * the prose does (a command or a config fragment often is the answer to "how do I …").
 */
function codeFor(
  passage: Passage,
  announced: number | null,
  chosen: Sentence[],
  weights: TermWeights,
  question: string,
): Answer['code'] | undefined {
  let index = announced;
  if (index === null) {
    const prose = Math.max(0, ...chosen.filter((s) => s.rank === 0).map((s) => scoreOf(s.terms, weights)));
    const asksHow = /\b(how|command|run|install|enable|set|configure|example|snippet|syntax)\b/i.test(
      question,
    );
    let bestScore = 0;
    for (const [i, block] of passage.code.entries()) {
      const score = scoreOf(matchedTerms(block, weights), weights);
      if (score > bestScore) [index, bestScore] = [i, score];
    }
    if (index === null || bestScore < (asksHow ? prose * 0.5 : prose) || bestScore === 0) return undefined;
  }
  const block = passage.code[index];
  if (block === undefined || block.trim() === '') return undefined;
  return { language: languageOf(block, passage), text: trimCode(block, weights) };
}

function languageOf(code: string, passage: Passage): string {
  if (/^\s*(\$ |make\b|rustup |cargo |git |sudo |apt(-get)? |dnf |\.\/|export |cd |scripts\/)/m.test(code)) {
    return 'sh';
  }
  if (/^\s*obj-[$\w(){}]*\s*[+:]?=/m.test(code)) return 'makefile';
  if (/^\s*CONFIG_\w+=/m.test(code)) return 'text';
  if (
    passage.kind === 'rust-doc' ||
    passage.kind === 'sample' ||
    /\b(fn|impl|use|let|struct)\b|::|!\(/.test(code)
  ) {
    return 'rust';
  }
  return 'text';
}

/** Dedented, and cut to the window of a few lines that mentions the question's terms most. */
function trimCode(code: string, weights: TermWeights): string {
  const lines = code.replace(/\s+$/, '').split('\n');
  while (lines[0]?.trim() === '') lines.shift();
  const indents = lines.filter((line) => line.trim() !== '').map((line) => /^[ \t]*/.exec(line)![0].length);
  const indent = Math.min(...indents);
  const dedented = lines.map((line) => line.slice(indent));
  if (dedented.length <= MAX_CODE_LINES) return dedented.join('\n');
  let start = 0;
  let bestScore = -1;
  for (let i = 0; i + MAX_CODE_LINES <= dedented.length; i++) {
    const window = dedented.slice(i, i + MAX_CODE_LINES).join('\n');
    const score = scoreOf(matchedTerms(window, weights), weights);
    if (score > bestScore) [start, bestScore] = [i, score];
  }
  return dedented.slice(start, start + MAX_CODE_LINES).join('\n');
}

// ---- tool versions -----------------------------------------------------------------------------

/**
 * The minimum-versions facts the question asks about, stated as they are, with the kernel version: the
 * tools it names first, then rustc and bindgen (what Rust support needs), never the other tools' minimums
 * and special cases unasked.
 */
function toolVersionsLead(passage: Passage, weights: TermWeights): string {
  const facts = toolVersionFacts(passage);
  // What a fact is about is its tool: a list's shared intro ("Minimum versions of …") tells none apart.
  const terms = facts.map((fact) => matchedTerms(fact.about, weights));
  const specific = withIdf(weights, terms);
  const scores = terms.map((matched) => scoreOf(matched, specific));
  const best = Math.max(0, ...scores);
  const asked = facts
    .map((fact, i) => ({ fact, score: scores[i]! }))
    .filter(({ score }) => best > 0 && score >= best * 0.5)
    .sort((a, b) => b.score - a.score)
    .map(({ fact }) => fact);
  const rust = facts.filter((fact) => /\brustc\b/.test(fact.text) && !asked.includes(fact));
  const lead = [...(asked.length > 0 ? asked : facts.slice(0, 1)), ...rust]
    .slice(0, MAX_SENTENCES)
    .map((fact) => fact.text)
    .join(' ');
  const version = passage.kernelVersion;
  return version && !lead.includes(version) ? `Linux ${version}: ${lead}` : lead;
}

interface ToolFact {
  text: string;
  /** The part naming the tool and its versions. */
  about: string;
}

/**
 * The minimum versions themselves, not remarks about them ("These minimums come from …"), each tool of a
 * list its own fact ("… other tools for Linux 6.1: GCC (gcc) 5.1.0.") so that an answer can quote the
 * tools a question asks about and no others.
 */
function toolVersionFacts(passage: Passage): ToolFact[] {
  const sentences = passage.text.split('\n').flatMap((line) => splitSentences(cleanMarkup(line)));
  const versions = sentences.filter((sentence) => /\d+\.\d+/.test(sentence));
  return (versions.length > 0 ? versions : sentences).flatMap(perTool);
}

/** "Intro: a 1.0, b 2.0 (3.0 when …)." as "Intro: a 1.0." and "Intro: b 2.0 (3.0 when …)."; other sentences as they are. */
function perTool(sentence: string): ToolFact[] {
  const colon = sentence.indexOf(': ');
  const items =
    colon < 0 || !sentence.endsWith('.') ? [] : splitOutsideParentheses(sentence.slice(colon + 2, -1), ', ');
  if (items.length < 2) return [{ text: sentence, about: sentence }];
  return items.map((item) => ({ text: `${sentence.slice(0, colon + 1)} ${item}.`, about: item }));
}

function splitOutsideParentheses(text: string, separator: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0 && text.startsWith(separator, i)) {
      items.push(text.slice(start, i));
      start = i + separator.length;
    }
  }
  return [...items, text.slice(start)];
}

// ---- text --------------------------------------------------------------------------------------

/** A list item's marker; numbered items stop at two digits, so a year wrapped to a line start ("Edition\n2021.") stays in its sentence. */
const LIST_ITEM = /^\s*(?:[-*•+]|\d{1,2}[.)]|#\.)\s+/;

/**
 * Paragraphs of cleaned prose, each list item its own. A lone link after "… from:" joins the sentence
 * that announces it, and "… ways to contribute:" followed by a list of short items gets the items' heads.
 */
function paragraphsOf(text: string): string[] {
  const blocks = cleanMarkup(text)
    .split(/\n\s*\n|\n(?=\s*(?:[-*•+]|\d{1,2}[.)]|#\.)\s)/)
    .map((block) => block.trim())
    .filter((block) => block !== '');
  const paragraphs: string[] = [];
  for (const [i, block] of blocks.entries()) {
    const last = paragraphs.length - 1;
    if (/^https?:\/\/\S+$/.test(block) && paragraphs[last]?.endsWith(':')) {
      paragraphs[last] = `${paragraphs[last]} ${block}`;
      continue;
    }
    const items: string[] = [];
    for (const next of blocks.slice(i + 1)) {
      if (!LIST_ITEM.test(next)) break;
      items.push(next);
    }
    paragraphs.push((block.endsWith(':') && summarizeList(block, items)) || block);
  }
  return paragraphs;
}

/** "Intro: head one, head two." from the items' leading phrases, or null when they are not short. */
function summarizeList(intro: string, items: string[]): string | null {
  if (items.length < 2 || items.length > 8) return null;
  const heads: string[] = [];
  for (const item of items) {
    const head = item
      .replace(LIST_ITEM, '')
      .split(/[.;:!?](?:\s|$)|,\s|\s\(|\s[-–—]\s/)[0]!
      .trim();
    if (head.length < 2 || head.length > 60) return null;
    heads.push(/^\p{Lu}\p{Ll}/u.test(head) ? head[0]!.toLowerCase() + head.slice(1) : head);
  }
  return `${intro} ${heads.join(', ')}.`;
}

const ABBREVIATION = /\b(e\.g|i\.e|cf|vs|approx|incl|resp)\.$/i;

/** Sentences of a paragraph (a list item's marker dropped), abbreviations like "e.g." not ending one. */
function splitSentences(paragraph: string): string[] {
  const flat = paragraph.replace(LIST_ITEM, '').replace(/\s+/g, ' ').trim();
  const sentences: string[] = [];
  for (const piece of flat.split(/(?<=[.!?])\s+(?=[\p{Lu}`"'(\d])/u)) {
    const last = sentences.length - 1;
    if (last >= 0 && ABBREVIATION.test(sentences[last]!)) sentences[last] = `${sentences[last]} ${piece}`;
    else if (piece !== '') sentences.push(piece);
  }
  return sentences;
}

/** Link texts that mean nothing without their target, so the target stays. */
const GENERIC_LINK = /^(here|this|link|website|site|page)$|\b(link|instructions)\b/i;

/** Markup ingest may have left behind (reStructuredText roles and links, Markdown emphasis and links, HTML). */
export function cleanMarkup(text: string): string {
  return text
    .replace(/^\s*\.\. _[^:]+:.*$/gm, '')
    .replace(/^\s*\.\. (note|warning|important|tip|attention|caution|hint)::\s*/gim, (_, kind: string) => {
      return `${kind[0]!.toUpperCase()}${kind.slice(1).toLowerCase()}: `;
    })
    .replace(/^\s*\.\. [\w:-]+::.*$/gm, '')
    .replace(/^\s*[=\-~^*#"'`+]{3,}\s*$/gm, '')
    .replace(/:(doc|ref):`([^`<]*?)\s*(<[^>]*>)?`/g, '$2')
    .replace(/:[\w:+-]+:`([^`<]*?)\s*(<[^>]*>)?`/g, '`$1`')
    .replace(/`([^`<]+?)\s*<[^>]+>`__?/g, '$1')
    .replace(/`([^`]+)`__?/g, '$1')
    .replace(/``([^`]+)``/g, '`$1`')
    .replace(/<(https?:\/\/[^>\s]+)>/g, '$1')
    .replace(/!\[[^\]]*\]\([^)]*\)/g, '')
    .replace(/\[([^\]]+)\]\((https?:[^)\s]*)\)/g, (_, label: string, url: string) =>
      GENERIC_LINK.test(label) ? `${label} (${url})` : label,
    )
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/<\/?(br|p|div|span|sup|sub|a|img|b|i|em|strong|details|summary|code)\b[^>]*>/gi, '')
    .replace(/\*\*([^*\n]+)\*\*/g, '$1')
    .replace(/(^|[\s(])\*([^*\s][^*\n]*?)\*(?=[\s).,;:!?]|$)/gm, '$1$2')
    .replace(/\|(\w[\w -]*)\|/g, '$1')
    .replace(/^\s*#{1,6}\s+/gm, '')
    .replace(/^\s*>\s?/gm, '')
    .replace(/\[\^[^\]]+\]/g, '')
    .replace(/(\S)::[ \t]*$/gm, '$1:')
    .replace(/^\s*::\s*$/gm, '');
}

/**
 * Retrieval and abstention quality on a question set:
 *   npm run eval -- --questions <jsonl> --corpus <dir> [--kernel <tree> | --no-kernel] [--json] [--misses]
 *                   [--require <score>]
 * The index is built from the corpus folder's trees plus, where present, the provisioned Debian 6.1
 * kernel tree as a distractor (its passages never count as relevant: the questions name corpus files);
 * the curated FAQ is left out so that every hit can be checked against the listed files. The distractor
 * stays one tree, so that scores compare across changes; a second tree's passages can only crowd the
 * corpus's out.
 * With --require, it exits 1 when recall@5 or abstention precision or recall falls below the score:
 * CI runs it that way against ../shared (.ci/run), which the unit tests never read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { createLogger } from '../config/logger.ts';
import type { KnowledgeBase } from './knowledge-base.ts';
import { loadKnowledgeBase } from './knowledge-base.ts';
import type { Passage } from './passage.ts';
import { retrieve } from './retrieve.ts';
import { createKnowledgeService } from './service.ts';

export interface EvalQuestion {
  id: string;
  question: string;
  category: string;
  relevant: { file: string; section: string | null }[];
}

interface Outcome {
  question: EvalQuestion;
  /** 1-based rank of the first relevant passage, or null. */
  rank: number | null;
  abstained: boolean;
  top: string[];
}

export interface Scores {
  questions: number;
  recall_at_1: number;
  recall_at_3: number;
  recall_at_5: number;
  mrr: number;
  abstention_precision: number | null;
  abstention_recall: number | null;
}

const RANK_DEPTH = 10;
/** What --require holds the overall scores to; an undefined abstention score (nothing to abstain on) fails. */
const GATED = ['recall_at_5', 'abstention_precision', 'abstention_recall'] as const;

/** Does this passage count for a listed relevant file and section (or a section inside it)? */
export function isRelevant(
  passage: Passage,
  file: string,
  relevant: EvalQuestion['relevant'][number],
): boolean {
  if (file !== relevant.file) return false;
  if (relevant.section === null) return true;
  const wanted = relevant.section.split(' > ').map(headingKey);
  const path = passage.sectionPath.map(headingKey);
  let at = 0;
  for (const heading of path) if (heading === wanted[at]) at++;
  return at === wanted.length;
}

/** Headings compare case-insensitively and without inline markup (``no_std`` is no_std). */
function headingKey(heading: string): string {
  return heading.replace(/[`*]/g, '').replace(/\s+/g, ' ').trim().toLowerCase();
}

export async function evaluate(
  kb: KnowledgeBase,
  corpusDir: string,
  questions: EvalQuestion[],
  minConfidence: number,
) {
  const roots = new Map(kb.trees.map((tree) => [tree.id, tree.root]));
  // Relative to the corpus, as the question set names files; a hit in another tree (the provisioned
  // kernel) is named by its tree instead of by a long climb out of the corpus.
  const fileOf = (passage: Passage) => {
    const path = relative(corpusDir, join(roots.get(passage.tree) ?? '', passage.path));
    return path.startsWith(`..${sep}`) || isAbsolute(path) ? `${passage.tree}:${passage.path}` : path;
  };
  const service = createKnowledgeService(kb, {
    knowledge: { minConfidence, maxSources: 3 },
    llm: null,
    log: createLogger({ logLevel: 'silent', logFormat: 'json' }),
  });
  const outcomes: Outcome[] = [];
  for (const question of questions) {
    const hits = retrieve(kb.index, question.question, {
      limit: RANK_DEPTH,
      defaultSeries: kb.defaultSeries,
    }).hits;
    const files = hits.map((hit) => fileOf(hit.passage));
    const index = hits.findIndex((hit, i) =>
      question.relevant.some((r) => isRelevant(hit.passage, files[i]!, r)),
    );
    const answer = await service.ask(question.question);
    outcomes.push({
      question,
      rank: index === -1 ? null : index + 1,
      abstained: answer.kind !== 'answer',
      top: hits.slice(0, 5).map((hit, i) => `${files[i]} § ${hit.passage.sectionPath.slice(1).join(' > ')}`),
    });
  }
  return outcomes;
}

export function score(outcomes: Outcome[]): Scores {
  const answerable = outcomes.filter((o) => o.question.relevant.length > 0);
  const recallAt = (k: number) =>
    ratio(answerable.filter((o) => o.rank !== null && o.rank <= k).length, answerable.length);
  const abstained = outcomes.filter((o) => o.abstained);
  const unanswerable = outcomes.filter((o) => o.question.relevant.length === 0);
  const correct = abstained.filter((o) => o.question.relevant.length === 0).length;
  return {
    questions: outcomes.length,
    recall_at_1: recallAt(1),
    recall_at_3: recallAt(3),
    recall_at_5: recallAt(5),
    mrr: ratio(
      answerable.reduce((sum, o) => sum + (o.rank ? 1 / o.rank : 0), 0),
      answerable.length,
    ),
    abstention_precision: abstained.length ? correct / abstained.length : null,
    abstention_recall: unanswerable.length ? correct / unanswerable.length : null,
  };
}

function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

function fmt(value: number | null): string {
  return value === null ? '  n/a' : value.toFixed(3);
}

function table(overall: Scores, byCategory: Record<string, Scores>): string {
  const header = 'category          n   R@1    R@3    R@5    MRR    abst.P abst.R';
  const row = (name: string, s: Scores) =>
    `${name.padEnd(16)} ${String(s.questions).padStart(2)}  ${[s.recall_at_1, s.recall_at_3, s.recall_at_5, s.mrr, s.abstention_precision, s.abstention_recall].map(fmt).join('  ')}`;
  return [header, row('overall', overall), ...Object.entries(byCategory).map(([c, s]) => row(c, s))].join(
    '\n',
  );
}

/** Questions answered outside the top 5, or abstained on wrongly: what was wanted and what came. */
function printMisses(outcomes: Outcome[]): void {
  for (const o of outcomes) {
    const wrongAbstention = o.abstained !== (o.question.relevant.length === 0);
    if ((o.question.relevant.length > 0 && (o.rank === null || o.rank > 5)) || wrongAbstention) {
      console.log(`\n${o.question.id} rank=${o.rank} abstained=${o.abstained}: ${o.question.question}`);
      for (const r of o.question.relevant) console.log(`  want ${r.file} § ${r.section ?? '*'}`);
      for (const t of o.top) console.log(`  got  ${t}`);
    }
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      questions: { type: 'string' },
      corpus: { type: 'string' },
      kernel: { type: 'string' },
      'no-kernel': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      misses: { type: 'boolean', default: false },
      require: { type: 'string' },
    },
  });
  const required = values.require === undefined ? null : Number(values.require);
  if (!values.questions || !values.corpus || Number.isNaN(required)) {
    console.error(
      'usage: npm run eval -- --questions <jsonl> --corpus <dir> [--kernel <tree>|--no-kernel] [--json] [--misses] [--require <score 0..1>]',
    );
    process.exit(2);
  }
  const loaded = loadConfig();
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const { config } = loaded;
  const corpusDir = resolve(values.corpus);
  const defaultTree = join(config.cacheDir, 'kernels', 'linux-source-6.1');
  const kernel = values['no-kernel']
    ? null
    : (values.kernel ?? (existsSync(defaultTree) ? defaultTree : null));
  const questions = readFileSync(values.questions, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as EvalQuestion);
  const log = createLogger({ logLevel: 'warn', logFormat: 'json' });
  const kb = await loadKnowledgeBase(
    {
      corpora: [corpusDir],
      kernelTrees: kernel ? [kernel] : [],
      markdownTrees: [],
      faqDir: null,
      wholeDocumentation: false,
    },
    { cacheDir: config.cacheDir, name: 'eval', log },
  );
  const outcomes = await evaluate(kb, corpusDir, questions, config.knowledge.minConfidence);
  const overall = score(outcomes);
  const categories = [...new Set(questions.map((q) => q.category))].sort();
  const byCategory = Object.fromEntries(
    categories.map((c) => [c, score(outcomes.filter((o) => o.question.category === c))]),
  );
  if (values.json) {
    // The agreed fields at the top level; each category keeps its question count.
    const { questions: _count, ...fields } = overall;
    console.log(JSON.stringify({ ...fields, by_category: byCategory }));
  } else {
    console.log(`index: ${kb.passages.length} passages from ${kb.trees.map((t) => t.id).join(', ')}`);
    console.log(table(overall, byCategory));
    if (values.misses) printMisses(outcomes);
  }
  const below = required === null ? [] : GATED.filter((key) => (overall[key] ?? 0) < required);
  if (below.length > 0) {
    const scores = below.map((key) => `${key} ${fmt(overall[key])}`).join(', ');
    console.error(`${values.questions}: below the required ${required}: ${scores}`);
    process.exitCode = 1;
  }
}

if (import.meta.main) await main();

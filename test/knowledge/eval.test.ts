/**
 * The evaluation script and the service behaviour it scores, on the fixture corpus and questions (plus
 * the provisioned Debian tree where the corpus is too small to judge). The scores themselves are
 * measured on ../shared by `npm run eval` in CI (.ci/run), not here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../../config/logger.ts';
import { type EvalQuestion, evaluate, score } from '../../knowledge/eval.ts';
import { type KnowledgeBase, loadKnowledgeBase } from '../../knowledge/knowledge-base.ts';
import { createKnowledgeService } from '../../knowledge/service.ts';
import { FIXTURE_CORPUS, FIXTURE_QUESTIONS, KERNEL_61, REPO } from '../helpers/paths.ts';

/** A kernel tree outside the corpus folder, as the provisioned Debian tree is in CI. */
const KERNEL_TREE = join(REPO, 'test/fixtures/ingest/kernel');
/** The script's index cache, kept out of the user's. */
const cacheDir = mkdtempSync(join(tmpdir(), 'rfl-eval-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));

const questions: EvalQuestion[] = readFileSync(FIXTURE_QUESTIONS, 'utf8')
  .split('\n')
  .filter((line) => line.trim())
  .map((line) => JSON.parse(line));
const question = (id: string) => questions.find((q) => q.id === id)?.question ?? '';

const loaded = loadConfig({ env: { HOME: process.env.HOME ?? '/root' } });
assert.ok(loaded.ok);
const { config } = loaded;
const log = createLogger({ logLevel: 'silent', logFormat: 'json' });

/** The fixture corpus plus a kernel tree beside it, as the evaluation indexes them. */
function knowledgeBase(kernelTree: string): Promise<KnowledgeBase> {
  return loadKnowledgeBase(
    {
      corpora: [FIXTURE_CORPUS],
      kernelTrees: [kernelTree],
      markdownTrees: [],
      faqDir: null,
      wholeDocumentation: false,
    },
    { cacheDir, name: 'eval', log },
  );
}

/** `npm run eval` on the fixtures, with the index cached in a temporary folder. */
function runEval(...args: string[]) {
  const sets = args.includes('--questions') ? [] : ['--questions', FIXTURE_QUESTIONS];
  return spawnSync(process.execPath, ['knowledge/eval.ts', ...sets, '--corpus', FIXTURE_CORPUS, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, RFL_CACHE_DIR: cacheDir },
  });
}

// How far a question is from the docs depends on how much there is to be near: this needs a real tree.
test('off-topic messages get one line; kernel questions the docs miss get the full abstention', {
  skip: !existsSync(join(KERNEL_61, 'Makefile')) && 'no unpacked 6.1 tree (npm run provision)',
}, async () => {
  const kb = await knowledgeBase(KERNEL_61);
  const service = createKnowledgeService(kb, { knowledge: config.knowledge, llm: null, log });
  const offTopic = [
    question('fx-adv-1'), // a recipe
    "what's a good pasta recipe?",
    'who will win the football match',
    'how do I center a div in CSS',
    'write me a poem about cats',
    'What should I eat for dinner tonight?',
    'how tall is mount everest',
  ];
  for (const message of offTopic) {
    const answer = await service.ask(message);
    assert.equal(answer.kind, 'smalltalk', message);
    assert.deepEqual([answer.details, answer.citations], [[], []], message);
    assert.match(answer.lead, /Rust in the Linux kernel/, message);
    assert.doesNotMatch(answer.lead, /\n/, message);
  }
  const kernelMisses = [
    question('fx-adv-2'), // a Windows kernel driver in Rust
    'Can I use async/await in kernel code?',
  ];
  for (const message of kernelMisses) {
    const answer = await service.ask(message);
    assert.equal(answer.kind, 'abstain', message);
    assert.match(answer.lead, /I don't know that one/, message);
    const details = answer.details.join('\n');
    for (const where of ['rust-for-linux@vger.kernel.org', 'rust-for-linux.zulipchat.com', 'exact error'])
      assert.ok(details.includes(where), `${message}: ${where}`);
  }
});

test('hits are named relative to the corpus, and by tree and path outside it', async () => {
  const kb = await knowledgeBase(KERNEL_TREE);
  const corpusHit = { file: 'linux/Documentation/rust/quick-start.rst', section: 'bindgen' };
  const [inCorpus, inKernel] = await evaluate(
    kb,
    FIXTURE_CORPUS,
    [
      { id: 'c', question: 'How do I install bindgen?', category: 'toolchain', relevant: [corpusHit] },
      { id: 'k', question: 'How do I build the Rust widgets?', category: 'build', relevant: [] },
    ],
    config.knowledge.minConfidence,
  );
  assert.equal(inCorpus?.rank, 1);
  assert.ok(inCorpus?.top[0]?.startsWith(`${corpusHit.file} § `), inCorpus?.top[0]);
  const widgets = inKernel?.top.find((hit) => hit.includes('widgets.rst'));
  assert.ok(widgets?.startsWith('linux-9.8.7-rc1:Documentation/rust/widgets.rst § '), widgets);
  for (const hit of [...(inCorpus?.top ?? []), ...(inKernel?.top ?? [])])
    assert.doesNotMatch(hit, /^\.\.|^\//, 'no path climbing out of the corpus');
});

test("with --kernel-copies a kernel tree's own copy of a file the questions name counts as that file", async () => {
  const kb = await knowledgeBase(KERNEL_TREE);
  const widgets = { file: 'linux/Documentation/rust/widgets.rst', section: null };
  const asked = [
    { id: 'w', question: 'How do I build the Rust widgets?', category: 'build', relevant: [widgets] },
  ];
  const min = config.knowledge.minConfidence;
  const [copied] = await evaluate(kb, FIXTURE_CORPUS, asked, min, { kernelCopies: true });
  const [distractor] = await evaluate(kb, FIXTURE_CORPUS, asked, min);
  const named = copied?.top.findIndex((hit) => hit.startsWith(`${widgets.file} § `)) ?? -1;
  assert.ok(named >= 0, copied?.top.join('\n'));
  assert.equal(copied?.rank, named + 1);
  assert.equal(distractor?.rank, null, 'without it, the tree is only a distractor');
});

test('npm run eval -- --json prints exactly the agreed fields, and every category', () => {
  const run = runEval('--no-kernel', '--json');
  assert.equal(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  const fields = ['recall_at_1', 'recall_at_3', 'recall_at_5', 'mrr'];
  const abstention = ['abstention_precision', 'abstention_recall'];
  assert.deepEqual(
    Object.keys(result).sort(),
    [...fields, ...abstention, 'by_category', 'stock_lunr'].sort(),
  );
  // Stock lunr beside ours, with the same fields and categories.
  assert.deepEqual(Object.keys(result.stock_lunr).sort(), [...fields, ...abstention, 'by_category'].sort());
  assert.deepEqual(Object.keys(result.stock_lunr.by_category).sort(), Object.keys(result.by_category).sort());
  for (const key of fields) assert.ok(result.stock_lunr[key] >= 0 && result.stock_lunr[key] <= 1, key);
  for (const key of [...fields, ...abstention]) {
    assert.equal(typeof result[key], 'number', key);
    assert.ok(result[key] >= 0 && result[key] <= 1, `${key} ${result[key]}`);
  }

  const categories = [...new Set(questions.map((q) => q.category))].sort();
  assert.deepEqual(Object.keys(result.by_category).sort(), categories);
  for (const category of categories) {
    const scores = result.by_category[category];
    assert.equal(
      scores.questions,
      questions.filter((q) => q.category === category).length,
      `${category} question count`,
    );
    for (const key of fields) {
      assert.equal(typeof scores[key], 'number', `${category}.${key}`);
      assert.ok(scores[key] >= 0 && scores[key] <= 1, `${category}.${key} ${scores[key]}`);
    }
    // Precision and recall of abstaining are undefined (null) for a category with nothing to abstain on.
    for (const key of abstention) {
      assert.ok(
        scores[key] === null || (typeof scores[key] === 'number' && scores[key] >= 0 && scores[key] <= 1),
        `${category}.${key} ${scores[key]}`,
      );
    }
  }
  const unanswerable = result.by_category.unanswerable;
  assert.equal(typeof unanswerable.abstention_recall, 'number', 'the unanswerable category is scored');
});

test('npm run eval -- --require fails the run when a gated score is below it, and says which', () => {
  const scores = JSON.parse(runEval('--no-kernel', '--json').stdout);
  const gated = ['recall_at_5', 'abstention_precision', 'abstention_recall'] as const;
  const lowest = Math.min(...gated.map((key) => scores[key]));

  const met = runEval('--no-kernel', '--require', String(lowest));
  assert.equal(met.status, 0, met.stderr);
  assert.match(met.stdout, /^overall\s+\d+\s/m, 'the table is printed');
  assert.equal(met.stderr, '');

  const missed = runEval('--no-kernel', '--require', String(lowest + 0.001));
  assert.equal(missed.status, 1);
  const failing = gated.filter((key) => scores[key] === lowest);
  for (const key of failing) assert.match(missed.stderr, new RegExp(`below the required .*${key}`));

  assert.equal(runEval('--require', 'high').status, 2, 'a score that is not a number is a usage error');
});

test('stock lunr is scored on the same passages: it misses what needs our vocabulary, and abstains only on no match', async () => {
  const kb = await knowledgeBase(KERNEL_TREE);
  const analyzer = {
    file: 'linux/Documentation/rust/quick-start.rst',
    section: 'Requirements: Developing > rust-analyzer',
  };
  const outcomes = await evaluate(
    kb,
    FIXTURE_CORPUS,
    [
      // Words stock lunr has no passage for: only our query vocabulary ties them to rust-analyzer.
      { id: 'lsp', question: 'language server for vscode', category: 'tooling', relevant: [analyzer] },
      { id: 'both', question: 'How do I set up rust-analyzer?', category: 'tooling', relevant: [analyzer] },
    ],
    config.knowledge.minConfidence,
  );
  const [lsp, both] = outcomes;
  assert.equal(lsp?.rank, 1, lsp?.top.join('\n'));
  assert.deepEqual(lsp?.stock, { rank: null, abstained: true, top: [] });
  assert.equal(both?.rank, 1);
  assert.equal(both?.stock.rank, 1, both?.stock.top.join('\n'));
  assert.equal(both?.stock.abstained, false);

  const ours = score(outcomes);
  const stock = score(outcomes, 'stock');
  assert.deepEqual([ours.recall_at_1, ours.recall_at_5, ours.mrr], [1, 1, 1]);
  assert.deepEqual([stock.recall_at_1, stock.recall_at_5, stock.mrr], [0.5, 0.5, 0.5]);
  // Its empty result list is an abstention, and a wrong one: the question had an answer.
  assert.equal(stock.abstention_precision, 0);
});

test("npm run eval prints ours | stock lunr per set, and which of issue 12's goals are met", () => {
  const dir = mkdtempSync(join(tmpdir(), 'rfl-eval-set-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const second = join(dir, 'second.jsonl');
  const relevant = [{ file: 'linux/Documentation/rust/quick-start.rst', section: 'rust-analyzer' }];
  writeFileSync(
    second,
    `${JSON.stringify({ id: 's1', question: 'language server for vscode', category: 'tooling', relevant })}\n`,
  );
  const run = runEval('--no-kernel', '--questions', FIXTURE_QUESTIONS, '--questions', second);
  assert.equal(run.status, 0, run.stderr);
  const goals = run.stdout.slice(0, run.stdout.indexOf('\n== '));
  for (const file of [FIXTURE_QUESTIONS, second]) {
    assert.match(
      goals,
      new RegExp(`${file}: R@5 \\d\\.\\d{3} (met|MISSED) \\(>= 0\\.95\\), R@1 .*MRR .*abst\\.P .*abst\\.R`),
    );
    assert.ok(run.stdout.includes(`\n== ${file}\n`), `a table for ${file}`);
  }
  assert.match(run.stdout, /stock lunr cannot abstain except on an empty result list/);
  const tables = run.stdout.split('\n== ').slice(1);
  assert.equal(tables.length, 2);
  for (const table of tables) assert.match(table, /R@5 ours \| lunr/);
  // The second set: ours finds it first, stock lunr not at all.
  assert.match(
    tables[1]!,
    /^overall\s+1\s+1\.000 \| 0\.000\s+1\.000 \| 0\.000\s+1\.000 \| 0\.000\s+1\.000 \| 0\.000/m,
  );

  const json = runEval('--no-kernel', '--json', '--questions', FIXTURE_QUESTIONS, '--questions', second);
  const lines = json.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.equal(lines.length, 2, 'one JSON line per set');
  assert.deepEqual([lines[1].recall_at_5, lines[1].stock_lunr.recall_at_5], [1, 0]);
});

test('npm run eval -- --dump writes the passages and, per question, the relevant ones and our ranking', () => {
  const file = join(cacheDir, 'rankings.json');
  const run = runEval('--kernel', KERNEL_TREE, '--dump', file);
  assert.equal(run.status, 0, run.stderr);
  const dump = JSON.parse(readFileSync(file, 'utf8'));
  const [set] = dump.sets;
  assert.equal(set.file, FIXTURE_QUESTIONS);
  assert.equal(set.questions.length, questions.length);
  for (const [i, q] of set.questions.entries()) {
    const asked = questions[i]!;
    assert.equal(q.question, asked.question);
    assert.equal(q.answerable, asked.relevant.length > 0, q.id);
    // Passages are numbered as in `passages`; each relevant one is in a file the question lists.
    for (const n of q.relevant)
      assert.ok(
        asked.relevant.some((r) => r.file === dump.passages[n].file),
        q.id,
      );
    const scores = q.ranking.map((hit: { score: number }) => hit.score);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
      `${q.id}: ranked best first`,
    );
    for (const hit of q.ranking) assert.ok(dump.passages[hit.passage], `${q.id}: ${hit.passage}`);
  }
  const answerable = set.questions.filter((q: { answerable: boolean }) => q.answerable);
  assert.ok(
    answerable.every((q: { relevant: number[] }) => q.relevant.length > 0),
    'every listed file is found',
  );
  // The kernel tree beside the corpus is named by its tree, as in the printed table.
  assert.ok(dump.passages.some((p: { file: string }) => p.file.startsWith('linux-9.8.7-rc1:Documentation/')));
});

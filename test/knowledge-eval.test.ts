/**
 * Retrieval quality as users meet it: the dev questions and our own held-out set, scored the way the
 * issue defines it, against ../shared/corpus plus the provisioned Debian 6.1 tree.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../config/load.ts';
import { createLogger } from '../config/logger.ts';
import { findKernelSource } from '../jobs/kernel-source.ts';
import { type EvalQuestion, evaluate, score } from '../knowledge/eval.ts';
import { type KnowledgeBase, loadKnowledgeBase } from '../knowledge/knowledge-base.ts';
import { createKnowledgeService } from '../knowledge/service.ts';
import { CORPUS, DEV_QUESTIONS, REPO } from './helpers/paths.ts';

const root = REPO;
const corpus = CORPUS;
const sets = {
  dev: DEV_QUESTIONS,
  holdout: join(root, 'test/fixtures/eval/holdout-questions.jsonl'),
};
const skip = existsSync(corpus) ? false : 'needs ../shared/corpus beside the clone';

const read = (file: string): EvalQuestion[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line));

const loaded = loadConfig({ env: { HOME: process.env.HOME ?? '/root' } });
assert.ok(loaded.ok);
const { config } = loaded;
const log = createLogger({ logLevel: 'silent', logFormat: 'json' });

let kbPromise: Promise<KnowledgeBase> | undefined;
/** The evaluation's knowledge base, loaded once for the tests that need it. */
function evalKnowledgeBase(): Promise<KnowledgeBase> {
  kbPromise ??= (async () => {
    const source = await findKernelSource({ src: '', cacheDir: config.cacheDir, log });
    return loadKnowledgeBase(
      {
        corpora: [corpus],
        kernelTrees: source.ok ? [source.path] : [],
        markdownTrees: [],
        faqDir: null,
        wholeDocumentation: false,
      },
      { cacheDir: config.cacheDir, name: 'eval', log },
    );
  })();
  return kbPromise;
}

test('recall@5 and abstention reach 0.9 on the dev and held-out questions', { skip }, async () => {
  const kb = await evalKnowledgeBase();
  for (const [name, file] of Object.entries(sets)) {
    const scores = score(await evaluate(kb, corpus, read(file), config.knowledge.minConfidence));
    assert.ok(scores.recall_at_5 >= 0.9, `${name} recall@5 ${scores.recall_at_5}`);
    assert.ok(
      (scores.abstention_precision ?? 0) >= 0.9,
      `${name} abstention precision ${scores.abstention_precision}`,
    );
    assert.ok(
      (scores.abstention_recall ?? 0) >= 0.9,
      `${name} abstention recall ${scores.abstention_recall}`,
    );
  }
});

test('off-topic messages get one line; kernel questions the docs miss get the full abstention', {
  skip,
}, async () => {
  const kb = await evalKnowledgeBase();
  const service = createKnowledgeService(kb, { knowledge: config.knowledge, llm: null, log });
  const dev = new Map(read(sets.dev).map((q) => [q.id, q.question]));
  const offTopic = [
    dev.get('dev-adv-1')!, // a recipe
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
    dev.get('dev-adv-2')!, // a Windows kernel driver in Rust
    'Can I use async/await in kernel code?',
  ];
  for (const question of kernelMisses) {
    const answer = await service.ask(question);
    assert.equal(answer.kind, 'abstain', question);
    assert.match(answer.lead, /I don't know that one/, question);
    const details = answer.details.join('\n');
    for (const where of ['rust-for-linux@vger.kernel.org', 'rust-for-linux.zulipchat.com', 'exact error'])
      assert.ok(details.includes(where), `${question}: ${where}`);
  }
});

test('npm run eval -- --json prints exactly the agreed fields, and every category', { skip }, () => {
  const out = execFileSync(
    process.execPath,
    ['knowledge/eval.ts', '--questions', sets.dev, '--corpus', corpus, '--json'],
    { cwd: root, encoding: 'utf8' },
  );
  const result = JSON.parse(out);
  const fields = ['recall_at_1', 'recall_at_3', 'recall_at_5', 'mrr'];
  const abstention = ['abstention_precision', 'abstention_recall'];
  assert.deepEqual(Object.keys(result).sort(), [...fields, ...abstention, 'by_category'].sort());
  for (const key of [...fields, ...abstention]) {
    assert.equal(typeof result[key], 'number', key);
    assert.ok(result[key] >= 0 && result[key] <= 1, `${key} ${result[key]}`);
  }

  const questions = read(sets.dev);
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

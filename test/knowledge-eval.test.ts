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
import { loadKnowledgeBase } from '../knowledge/knowledge-base.ts';
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

test('recall@5 and abstention reach 0.9 on the dev and held-out questions', { skip }, async () => {
  const loaded = loadConfig({ env: { HOME: process.env.HOME ?? '/root' } });
  assert.ok(loaded.ok);
  const log = createLogger({ logLevel: 'silent', logFormat: 'json' });
  const source = await findKernelSource({ src: '', cacheDir: loaded.config.cacheDir, log });
  const kb = await loadKnowledgeBase(
    {
      corpora: [corpus],
      kernelTrees: source.ok ? [source.path] : [],
      markdownTrees: [],
      faqDir: null,
      wholeDocumentation: false,
    },
    { cacheDir: loaded.config.cacheDir, name: 'eval', log },
  );
  for (const [name, file] of Object.entries(sets)) {
    const scores = score(await evaluate(kb, corpus, read(file), loaded.config.knowledge.minConfidence));
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

test('npm run eval -- --json prints one object with the agreed fields', { skip }, () => {
  const out = execFileSync(
    process.execPath,
    ['knowledge/eval.ts', '--questions', sets.dev, '--corpus', corpus, '--json'],
    { cwd: root, encoding: 'utf8' },
  );
  const result = JSON.parse(out);
  for (const key of [
    'recall_at_1',
    'recall_at_3',
    'recall_at_5',
    'mrr',
    'abstention_precision',
    'abstention_recall',
  ]) {
    assert.equal(typeof result[key], 'number', key);
  }
  assert.ok(result.by_category.toolchain.recall_at_5 >= 0);
});

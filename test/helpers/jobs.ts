/**
 * Job queue tests: a Redis of their own (a free port, data in a temp dir), queues and workers on it with
 * the real kernel tools, and a watcher that records what a chat user would see.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Config } from '../../config/schema.ts';
import { minimalModule } from '../../jobs/build/module-template.ts';
import type { JobOrigin, JobProgress, JobRequest, JobResult } from '../../jobs/contracts.ts';
import { kernelPlan } from '../../jobs/kernel/kernel-source.ts';
import { ensureRedis } from '../../jobs/queue/local-redis.ts';
import {
  JobQueue,
  type JobQueueOptions,
  type JobWatcher,
  type QueueLocation,
} from '../../jobs/queue/queue.ts';
import { type RunWorkerOptions, runWorker } from '../../jobs/run-worker.ts';
import { defaultConfig } from './prepared-tree.ts';
import { freePort, shutdownRedis } from './redis.ts';

export const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Starts a private redis-server; `stop` shuts it down. */
export async function privateRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const url = `redis://127.0.0.1:${await freePort()}`;
  const dir = mkdtempSync(join(tmpdir(), 'rfl-jobs-redis-'));
  const started = await ensureRedis({ url, startLocal: true, cacheDir: dir, log });
  if (!started.ok) throw new Error(started.failure.logText);
  return { url, stop: () => shutdownRedis(url) };
}

let queues = 0;

/** A queue name no other test uses. */
export function uniqueLocation(redisUrl: string): QueueLocation {
  queues += 1;
  return { redisUrl, queueName: `test-${process.pid}-${queues}-${Date.now()}`, prefix: 'rfltest' };
}

/**
 * The default config, its default series pinned to 6.1: the queue and hostile-input tests' modules are
 * written for 6.1 (its template, rustc 1.63's crash on deep nesting). The 6.12 default is tested in
 * test/jobs/series.test.ts. 6.1's source is named by its path in the default cache dir, so a worker
 * with a cache dir of its own (installTree) serves the same prepared tree.
 */
export function testConfig(jobs: Partial<Config['jobs']> = {}): Config {
  const config = defaultConfig();
  const plan = kernelPlan(config.kernel, config.cacheDir);
  const sourceOf = (series: string) =>
    plan.ok ? plan.value.series.find((candidate) => candidate.series === series)?.sourceDir : undefined;
  const trees = config.kernel.trees.map((tree) =>
    tree.series === '6.1' ? { ...tree, tarball: '', path: sourceOf('6.1') ?? '' } : tree,
  );
  return {
    ...config,
    kernel: { ...config.kernel, default: '6.1', trees },
    jobs: { ...config.jobs, prepareTreesAtStart: false, ...jobs },
  };
}

export async function openQueue(
  location: QueueLocation,
  config: Config,
  extra: Pick<JobQueueOptions, 'attempts' | 'newJobId'> = {},
) {
  return JobQueue.open({ ...location, jobs: config.jobs, log, backoffMs: 100, ...extra });
}

export function startWorker(location: QueueLocation, config: Config, extra: Partial<RunWorkerOptions> = {}) {
  return runWorker({ config, location, log, ...extra });
}

/** What a chat user sees of one job: every progress step and every result (there must be one). */
export class Recorder implements JobWatcher {
  readonly steps: JobProgress[] = [];
  readonly results: JobResult[] = [];
  readonly #first = Promise.withResolvers<JobResult>();
  readonly #waiting: { stage: JobProgress['stage']; resolve: () => void }[] = [];

  progress(progress: JobProgress): void {
    this.steps.push(progress);
    for (const waiter of this.#waiting.filter((w) => w.stage === progress.stage)) waiter.resolve();
  }

  result(result: JobResult): void {
    this.results.push(result);
    this.#first.resolve(result);
  }

  get finished(): Promise<JobResult> {
    return this.#first.promise;
  }

  reached(stage: JobProgress['stage']): Promise<void> {
    if (this.steps.some((step) => step.stage === stage)) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push({ stage, resolve }));
  }
}

let threads = 0;

/** A user in a room; each call is a thread of its own, as each top-level message starts one. */
export const origin = (userId = 'alice', room = 'room-1'): JobOrigin => ({
  userId,
  platform: 'terminal',
  room,
  conversation: `${room}/thread-${++threads}`,
  isDirect: false,
});

export const GOOD_MODULE = minimalModule('6.1');
/** The template with a type error in init(): one rustc error block. */
export const BAD_MODULE = GOOD_MODULE.replace(
  'pr_info!("Hello',
  'let answer: u32 = "forty-two";\n        pr_info!("Hello',
);

export function buildRequest(source: string, extra: Partial<Extract<JobRequest, { kind: 'build' }>> = {}) {
  return { kind: 'build' as const, source, fileName: 'hello.rs', boot: false, kernel: null, ...extra };
}

/**
 * A module that builds slowly enough to be caught running: statics evaluated at compile time, each just
 * under rustc's const-evaluation step limit (about 0.2 s each here; 30 make the build about 7 s).
 */
export function slowModule(tag: string, statics = 30): string {
  const slow = Array.from(
    { length: statics },
    (_, n) =>
      `#[used] static SLOW_${n}: u64 = { let mut i = 0u64; let mut x = ${n}u64; while i < 50_000 { x = x.wrapping_mul(31).wrapping_add(i); i += 1 } x };`,
  );
  return `${GOOD_MODULE}\n// ${tag}\n${slow.join('\n')}\n`;
}

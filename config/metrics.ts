/**
 * The process's Prometheus metrics: one registry, the default process metrics and the bot's own
 * `rfl_…` series, served by bot/ops-server.ts on /metrics. Call sites use the one-line helpers on
 * `metrics`; the queue depth is read from a callback at scrape time, so nothing polls Redis.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const registers = [registry];

const questions = new Counter({
  name: 'rfl_questions_total',
  help: 'Questions answered from the knowledge base, or abstained on.',
  labelNames: ['outcome'] as const,
  registers,
});
const feedback = new Counter({
  name: 'rfl_feedback_total',
  help: 'Feedback (👍/👎) recorded on answers.',
  labelNames: ['rating'] as const,
  registers,
});
const retrieval = new Histogram({
  name: 'rfl_retrieval_duration_seconds',
  help: 'Time to retrieve passages and compose the extractive answer.',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  registers,
});
const llm = new Histogram({
  name: 'rfl_llm_duration_seconds',
  help: 'Time of a model request (retries included), whether it succeeded or not.',
  buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60],
  registers,
});
const llmFallbacks = new Counter({
  name: 'rfl_llm_fallbacks_total',
  help: 'Model phrasings rejected in favour of the extractive answer.',
  labelNames: ['reason'] as const,
  registers,
});
const jobDuration = new Histogram({
  name: 'rfl_job_duration_seconds',
  help: 'Time a worker spent on a job, from taking it to its result.',
  labelNames: ['kind'] as const,
  buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800],
  registers,
});
const jobs = new Counter({
  name: 'rfl_jobs_total',
  help: 'Jobs finished by this process’s workers.',
  labelNames: ['kind', 'outcome'] as const,
  registers,
});
const chatSendErrors = new Counter({
  name: 'rfl_chat_send_errors_total',
  help: 'Messages that could not be sent, edited or removed on a chat platform.',
  labelNames: ['platform', 'code'] as const,
  registers,
});

export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
}

/** A scrape gives up on the queue after this long and leaves the gauge empty. */
const DEPTH_TIMEOUT_MS = 2000;
let readDepth: (() => Promise<QueueDepth>) | null = null;

new Gauge({
  name: 'rfl_queue_depth',
  help: 'Jobs in the build queue by state, read at scrape time.',
  labelNames: ['state'] as const,
  registers,
  async collect() {
    this.reset();
    if (!readDepth) return;
    const depth = await withTimeout(readDepth(), DEPTH_TIMEOUT_MS).catch(() => null);
    // Unknown (Redis away): no samples rather than stale ones.
    if (!depth) return;
    for (const state of ['waiting', 'active', 'delayed'] as const) this.set({ state }, depth[state]);
  },
});

/** Sets the callback the queue depth gauge reads (e.g. `() => jobQueue.depth()`); returns its removal. */
export function registerQueueDepth(fn: () => Promise<QueueDepth>): () => void {
  readDepth = fn;
  return () => {
    if (readDepth === fn) readDepth = null;
  };
}

/** A label for a failed request: the platform's error code (M_FORBIDDEN, 50013), else its HTTP status. */
export function errorCode(error: unknown): string {
  if (typeof error === 'string' || typeof error === 'number') return String(error);
  if (typeof error !== 'object' || error === null) return 'unknown';
  const { errcode, code, status, httpStatus } = error as Record<string, unknown>;
  for (const value of [errcode, code, status, httpStatus])
    if (typeof value === 'string' || typeof value === 'number') return String(value);
  return error instanceof Error ? error.name : 'unknown';
}

export const metrics = {
  questionAnswered(answered: boolean): void {
    questions.inc({ outcome: answered ? 'answered' : 'abstained' });
  },
  feedback(rating: 'up' | 'down'): void {
    feedback.inc({ rating });
  },
  observeRetrieval(seconds: number): void {
    retrieval.observe(seconds);
  },
  observeLlm(seconds: number): void {
    llm.observe(seconds);
  },
  /** `reason` as logged ("answer without citations") becomes a label like `answer_without_citations`. */
  llmFallback(reason: string): void {
    llmFallbacks.inc({ reason: reason.toLowerCase().replace(/[^a-z0-9]+/g, '_') });
  },
  jobFinished(kind: string, outcome: string, seconds: number): void {
    jobDuration.observe({ kind }, seconds);
    jobs.inc({ kind, outcome });
  },
  /** `error` is the thrown error (its code is taken with errorCode) or a code itself. */
  chatSendError(platform: 'matrix' | 'discord' | 'terminal', error: unknown): void {
    chatSendErrors.inc({ platform, code: errorCode(error) });
  },
};

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A BullMQ worker running our processor: progress through job.updateProgress, results saved for `!log`
 * and reuse, retries only for infrastructure failures, `!cancel` and shutdown through the job's
 * AbortSignal, and on shutdown past the grace period the running jobs handed back to the queue.
 */
import { type Job, WaitingError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../config/logger.ts';
import { metrics } from '../config/metrics.ts';
import { activityKey, RedisActivityLog } from './activity.ts';
import type { JobProgress, JobRequest, JobResult } from './contracts.ts';
import { type TreeKeys, TreeRegistry, treeLabel } from './kernel/tree-registry.ts';
import { requestFingerprint } from './queue/job-id.ts';
import {
  cancelChannel,
  cancelMarker,
  type JobData,
  type QueueLocation,
  queueNamespace,
} from './queue/queue.ts';
import { ResultStore } from './queue/result-store.ts';

export interface ProcessContext {
  jobId: string;
  /** Aborted by `!cancel` (reason CANCELLED) or by a shutdown past its grace period (reason SHUTDOWN). */
  signal: AbortSignal;
  progress(progress: JobProgress): Promise<void>;
}

export type JobProcessor = (request: JobRequest, context: ProcessContext) => Promise<JobResult>;

const CANCELLED = 'cancelled';
const SHUTDOWN = 'shutdown';

export interface JobWorkerOptions extends QueueLocation {
  concurrency: number;
  resultTtlHours: number;
  process: JobProcessor;
  log: Logger;
  /** How long a job's lock lives without renewal, i.e. how soon a killed worker's job is taken over. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** The trees this worker would build on now, announced to the queue (see tree-registry.ts). */
  treeKeys?: () => Promise<TreeKeys>;
  /** How often they are announced again (a tree provisioned meanwhile is seen within this). */
  treeRefreshMs?: number;
  /** Each finished job is recorded in the activity log (for the digest), kept this many days. */
  activityRetentionDays?: number;
}

const TREE_REFRESH_MS = 10_000;

export interface JobWorker {
  readonly worker: Worker<JobData, JobResult>;
  /** Announces the worker's trees now (after a tree was prepared). */
  refreshTrees(): Promise<void>;
  /**
   * Stops taking jobs and lets the running ones finish; after `graceMs` they are stopped and put back
   * in the queue for another worker. Then closes the connections.
   */
  close(graceMs: number): Promise<void>;
}

export async function startJobWorker(options: JobWorkerOptions): Promise<JobWorker> {
  const { log } = options;
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 3 });
  const subscriber = new Redis(options.redisUrl);
  for (const client of [redis, subscriber]) {
    client.on('error', (error) => log.warn({ err: error }, 'worker Redis connection error'));
  }
  const results = new ResultStore(redis, queueNamespace(options), options.resultTtlHours);
  const registry = new TreeRegistry(redis, queueNamespace(options), options.resultTtlHours);
  const activity = options.activityRetentionDays
    ? new RedisActivityLog(redis, { key: activityKey(options), retentionDays: options.activityRetentionDays })
    : null;
  let running = 0;

  async function refreshTrees(): Promise<void> {
    if (!options.treeKeys) return;
    try {
      await registry.announce(await options.treeKeys());
    } catch (error) {
      log.warn({ err: error }, 'could not announce the kernel trees to the queue');
    }
  }

  async function run(
    job: Job<JobData, JobResult>,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ) {
    const jobId = job.id!;
    const controller = new AbortController();
    signal?.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
    // A cancellation announced before this worker took the job.
    if (await redis.exists(cancelMarker(options, jobId))) controller.abort(CANCELLED);
    log.info({ jobId, kind: job.data.request.kind, attempt: job.attemptsMade + 1 }, 'job started');
    running += 1;
    const started = performance.now();
    const result = await options
      .process(job.data.request, {
        jobId,
        signal: controller.signal,
        progress: (progress) => job.updateProgress(progress),
      })
      .finally(() => {
        running -= 1;
      });
    if (controller.signal.reason === SHUTDOWN) {
      // Not a result: another worker will run it again from the start.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    if (result.outcome === 'infrastructure' && job.attemptsMade + 1 < (job.opts.attempts ?? 1)) {
      log.warn({ jobId, summary: result.summary }, 'infrastructure failure; the job will be retried');
      throw new Error(result.summary);
    }
    // The fingerprint names the tree the chat side expected. A result from another tree (re-provisioned
    // meanwhile) must not answer it: it answers requests on the tree it was really built on.
    const { request, origin, fingerprint, treeKey } = job.data;
    const reusableAs =
      result.treeKey && result.treeKey !== treeKey
        ? requestFingerprint(request, origin.userId, result.treeKey)
        : fingerprint;
    await results.save(result, fingerprint, { reusableAs });
    if (result.treeKey) {
      await registry
        .announce({ [treeLabel(request.kernel)]: result.treeKey })
        .catch((error: unknown) => log.warn({ err: error }, 'could not announce the kernel tree'));
    }
    log.info({ jobId, outcome: result.outcome, durationMs: result.durationMs }, 'job finished');
    metrics.jobFinished(request.kind, result.outcome, (performance.now() - started) / 1000);
    await activity
      ?.record({
        type: 'job',
        at: Date.now(),
        jobId,
        kind: request.kind,
        boot: request.kind !== 'check-config' && request.boot,
        outcome: result.outcome,
        durationMs: result.durationMs,
        kernelVersion: result.environment?.kernelVersion ?? null,
      })
      .catch((error: unknown) =>
        log.warn({ err: error, jobId }, 'could not record the job in the activity log'),
      );
    return result;
  }

  const worker = new Worker<JobData, JobResult>(options.queueName, run, {
    connection: { url: options.redisUrl },
    prefix: options.prefix,
    concurrency: options.concurrency,
    ...(options.lockDurationMs ? { lockDuration: options.lockDurationMs } : {}),
    ...(options.stalledIntervalMs ? { stalledInterval: options.stalledIntervalMs } : {}),
  });
  worker.on('error', (error) => log.warn({ err: error }, 'job worker error'));
  worker.on('stalled', (jobId) => log.warn({ jobId }, 'a job stalled (its worker died?); it is taken over'));
  await subscriber.subscribe(cancelChannel(options));
  subscriber.on('message', (_channel, jobId: string) => {
    if (worker.cancelJob(jobId, CANCELLED)) log.info({ jobId }, 'job cancelled by its user');
  });
  await worker.waitUntilReady();
  await refreshTrees();
  const refresher = setInterval(() => void refreshTrees(), options.treeRefreshMs ?? TREE_REFRESH_MS);
  refresher.unref();

  return {
    worker,
    refreshTrees,
    async close(graceMs) {
      clearInterval(refresher);
      const closing = worker.close();
      const timer = setTimeout(() => {
        if (running === 0) return;
        log.warn(
          { graceMs, running },
          'shutdown grace period over: handing the running jobs back to the queue',
        );
        worker.cancelAllJobs(SHUTDOWN);
      }, graceMs);
      await closing;
      clearTimeout(timer);
      subscriber.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

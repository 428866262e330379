/**
 * A BullMQ worker running our processor: progress through job.updateProgress, results saved for `!log`
 * and reuse, retries only for infrastructure failures, `!cancel` and shutdown through the job's
 * AbortSignal, and on shutdown past the grace period the running jobs handed back to the queue.
 */
import { type Job, WaitingError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../config/logger.ts';
import type { JobProgress, JobRequest, JobResult } from './contracts.ts';
import { cancelChannel, cancelMarker, type JobData, type QueueLocation, queueNamespace } from './queue.ts';
import { ResultStore } from './result-store.ts';

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
}

export interface JobWorker {
  readonly worker: Worker<JobData, JobResult>;
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
  let running = 0;

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
    await results.save(result, job.data.fingerprint);
    log.info({ jobId, outcome: result.outcome, durationMs: result.durationMs }, 'job finished');
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

  return {
    worker,
    async close(graceMs) {
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

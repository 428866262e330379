/**
 * The chat side of the job queue (BullMQ on Redis): submit a request, watch its progress, get its result
 * exactly once, cancel it, read it back for `!log`. Workers (jobs/job-worker.ts) may live in this process
 * or in others sharing the same Redis; everything between them goes through Redis. Each job id is
 * reserved in Redis together with who started the job, so no two jobs share an id and only its owner gets
 * its result reused.
 */
import { type Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../../config/logger.ts';
import type { Config } from '../../config/schema.ts';
import { type JobOrigin, type JobProgress, type JobRequest, type JobResult, sameUser } from '../contracts.ts';
import { TreeRegistry } from '../kernel/tree-registry.ts';
import { newJobId, requestFingerprint } from './job-id.ts';
import { type Admission, Admissions, type Refusal } from './limits.ts';
import { ResultStore } from './result-store.ts';

/** What one queue is called in Redis; tests give every queue its own name. */
export interface QueueLocation {
  redisUrl: string;
  queueName: string;
  /** BullMQ's key prefix. */
  prefix: string;
}

export const DEFAULT_QUEUE: Omit<QueueLocation, 'redisUrl'> = { queueName: 'jobs', prefix: 'rfl' };

/** Our own keys beside BullMQ's, and the channel cancellations are announced on. */
export function queueNamespace(location: QueueLocation): string {
  return `${location.prefix}:${location.queueName}:rfl`;
}

export function cancelChannel(location: QueueLocation): string {
  return `${queueNamespace(location)}:cancel`;
}

/** Set when a job is cancelled while running, for a worker that takes it just after the announcement. */
export function cancelMarker(location: QueueLocation, jobId: string): string {
  return `${queueNamespace(location)}:cancelled:${jobId}`;
}

/** What travels with a job through Redis. */
export interface JobData {
  request: JobRequest;
  origin: JobOrigin;
  fingerprint: string;
  /** The tree key the fingerprint was made with (null: no worker had announced one). */
  treeKey?: string | null;
}

/** Tries per job: only infrastructure failures are retried (the processor returns everything else). */
export const JOB_ATTEMPTS = 3;
const BACKOFF_MS = 2000;

export interface JobWatcher {
  progress(progress: JobProgress): void;
  /** Called once per job and watcher. */
  result(result: JobResult): void;
}

export type Submission =
  | { ok: true; status: 'queued'; jobId: string; position: number }
  /** An identical request of the same user is queued or running: this one follows it. */
  | { ok: true; status: 'attached'; jobId: string; progress: JobProgress }
  /** An identical request already has a result: no new job. */
  | { ok: true; status: 'cached'; jobId: string; result: JobResult }
  | { ok: false; refusal: Refusal };

const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);
/**
 * Fresh ids tried before giving up. With about 21 million ids, even a million jobs kept at once make ten
 * clashes in a row a one-in-10¹³ event: reaching it means the generator is broken.
 */
const JOB_ID_TRIES = 10;
const CANCELLED_WAITING = 'cancelled before it started';

export interface JobQueueOptions extends QueueLocation {
  jobs: Config['jobs'];
  log: Logger;
  /** Tries for infrastructure failures and the pause between them (tests shorten it). */
  attempts?: number;
  backoffMs?: number;
  /** Where job ids come from (tests force clashes). */
  newJobId?: () => string;
}

const KIND_LABEL: Record<JobRequest['kind'], string> = {
  build: 'build',
  sample: 'sample build',
  'check-config': 'config check',
};

/** A stand-in result when no worker produced one (removed while waiting, or failed for good). */
function noResult(jobId: string, summary: string, body = ''): JobResult {
  return {
    jobId,
    outcome: 'infrastructure',
    environment: null,
    summary,
    body,
    warnings: 0,
    errors: 0,
    fullLog: '',
    durationMs: 0,
  };
}

export class JobQueue {
  readonly queue: Queue<JobData, JobResult>;
  readonly results: ResultStore;
  readonly trees: TreeRegistry;
  readonly #events: QueueEvents;
  readonly #redis: Redis;
  readonly #admissions: Admissions;
  readonly #options: JobQueueOptions;
  readonly #watchers = new Map<string, { origin: JobOrigin; watcher: JobWatcher }[]>();
  readonly #idle: (() => void)[] = [];

  private constructor(options: JobQueueOptions) {
    this.#options = options;
    const connection = { url: options.redisUrl };
    const location = { prefix: options.prefix };
    this.queue = new Queue<JobData, JobResult>(options.queueName, { connection, ...location });
    this.#events = new QueueEvents(options.queueName, { connection, ...location });
    this.#redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 3 });
    const namespace = queueNamespace(options);
    this.results = new ResultStore(this.#redis, namespace, options.jobs.resultTtlHours);
    this.trees = new TreeRegistry(this.#redis, namespace, options.jobs.resultTtlHours);
    this.#admissions = new Admissions({
      redis: this.#redis,
      namespace,
      limits: options.jobs,
      runningJobsKey: this.queue.toKey('active'),
      isLive: (id) => this.#isLive(id),
    });
    this.#events.on('progress', ({ jobId, data }) => this.#progress(jobId, data as JobProgress));
    this.#events.on('active', () => void this.#updatePositions());
    this.#events.on('completed', ({ jobId, returnvalue }) => void this.#completed(jobId, returnvalue));
    this.#events.on('failed', ({ jobId, failedReason }) => void this.#failed(jobId, failedReason));
    this.#events.on(
      'removed',
      ({ jobId }) => void this.#deliver(noResult(jobId, `⏹ job ${jobId} was ${CANCELLED_WAITING}.`)),
    );
    const connectionError = (error: Error) => options.log.warn({ err: error }, 'job queue connection error');
    this.queue.on('error', connectionError);
    this.#events.on('error', connectionError);
    this.#redis.on('error', connectionError);
  }

  /** Ready once the event stream is being read: no result can slip by before the first submit. */
  static async open(options: JobQueueOptions): Promise<JobQueue> {
    const jobQueue = new JobQueue(options);
    await Promise.all([jobQueue.queue.waitUntilReady(), jobQueue.#events.waitUntilReady()]);
    return jobQueue;
  }

  async submit(request: JobRequest, origin: JobOrigin, watcher: JobWatcher): Promise<Submission> {
    // The tree the request would be built on now: a result from another tree is not "the same".
    const treeKey = await this.trees.current(request.kernel);
    const fingerprint = requestFingerprint(request, origin.userId, treeKey);
    const jobId = await this.#reserveJobId(origin);
    for (;;) {
      const existing = await this.results.claimFingerprint(fingerprint, jobId);
      if (existing === null) break;
      const reused = await this.#reuse(existing, origin, watcher, treeKey);
      if (reused) {
        await this.results.releaseJobId(jobId);
        return reused;
      }
      // The job it pointed at is gone without a reusable result, or is not this user's.
      await this.results.forgetFingerprint(fingerprint, existing);
    }

    const admission = await this.#admissions.admit(origin, jobId);
    if (!admission.ok) {
      await this.results.forgetFingerprint(fingerprint, jobId);
      await this.results.releaseJobId(jobId);
      return { ok: false, refusal: await this.#refusal(admission) };
    }
    this.#watch(jobId, origin, watcher);
    await this.queue.add(
      request.kind,
      { request, origin, fingerprint, treeKey },
      {
        jobId,
        attempts: this.#options.attempts ?? JOB_ATTEMPTS,
        backoff: { type: 'exponential', delay: this.#options.backoffMs ?? BACKOFF_MS },
        removeOnComplete: { age: this.#options.jobs.resultTtlHours * 3600 },
        removeOnFail: { age: this.#options.jobs.resultTtlHours * 3600 },
      },
    );
    return { ok: true, status: 'queued', jobId, position: (await this.#position(jobId)) ?? 1 };
  }

  /**
   * A job id nobody else has: BullMQ would silently keep an earlier job under a reused id, and the new
   * request would be answered with that job's result.
   */
  async #reserveJobId(origin: JobOrigin): Promise<string> {
    const newId = this.#options.newJobId ?? newJobId;
    for (let tries = 0; tries < JOB_ID_TRIES; tries += 1) {
      const jobId = newId();
      if (await this.results.reserveJobId(jobId, origin, this.queue.toKey(jobId))) return jobId;
    }
    throw new Error(`no free job id after ${JOB_ID_TRIES} tries`);
  }

  async #reuse(
    jobId: string,
    origin: JobOrigin,
    watcher: JobWatcher,
    treeKey: string | null,
  ): Promise<Submission | null> {
    // The fingerprint names the user, but what it points at must be theirs too: another user's job would
    // hand out their code's result and, through `!log`, their log.
    const owner = await this.results.owner(jobId);
    if (!owner || !sameUser(owner, origin)) return null;
    const result = await this.results.get(jobId);
    if (result) {
      // Belt and braces: the fingerprint already names the tree, and workers never leave one pointing at
      // a result from another tree; a result from before the tree was known is not trusted either.
      if (treeKey !== null && result.treeKey !== treeKey) return null;
      return { ok: true, status: 'cached', jobId, result };
    }
    const job = await this.queue.getJob(jobId);
    if (!job || !(await this.#isLive(jobId))) return null;
    this.#watch(jobId, origin, watcher);
    const progress = isProgress(job.progress)
      ? job.progress
      : { stage: 'queued' as const, position: (await this.#position(jobId)) ?? 1 };
    return { ok: true, status: 'attached', jobId, progress };
  }

  /**
   * Picks up a job submitted before a restart of the chat side: its result reaches `watcher` once for
   * `origin`, whether the job is still running or finished meanwhile. 'delivered' when that destination
   * already got it (the earlier process sent it before it stopped).
   */
  async follow(jobId: string, origin: JobOrigin, watcher: JobWatcher): Promise<'following' | 'delivered'> {
    if (await this.results.wasDelivered(jobId, destinationOf(origin))) return 'delivered';
    // Watched first: a result that lands while we look is delivered through the event, not missed.
    this.#watch(jobId, origin, watcher);
    const result = await this.results.get(jobId);
    if (result) await this.#deliver(result);
    else if (!(await this.#isLive(jobId))) {
      const failed = (await this.queue.getJobState(jobId)) === 'failed';
      await this.#deliver(
        failed
          ? noResult(jobId, `❌ job ${jobId} failed on my side. Please try again later.`)
          : noResult(jobId, `⏹ job ${jobId} ended while I was restarting, and its result has expired.`),
      );
    }
    return 'following';
  }

  async #refusal(admission: Exclude<Admission, { ok: true }>): Promise<Refusal> {
    if (admission.reason !== 'user') return admission;
    const busy = await this.queue.getJob(admission.busyJobId);
    return {
      ...admission,
      kind: busy ? KIND_LABEL[busy.data.request.kind] : 'job',
      running: (await busy?.getState()) === 'active',
    };
  }

  /**
   * `!cancel`: a queued job is removed, a running one is stopped through its worker's AbortSignal.
   * Only the user who started a job may cancel it.
   */
  async cancel(jobId: string, userId: string): Promise<string> {
    const job = await this.queue.getJob(jobId);
    if (!job) {
      return (await this.results.get(jobId))
        ? `Job ${jobId} has already finished.`
        : `I don’t know a job ${jobId}; it may have expired.`;
    }
    if (job.data.origin.userId !== userId)
      return `Job ${jobId} was started by someone else; only they can cancel it.`;
    const state = await job.getState();
    if (state !== 'active' && LIVE_STATES.has(state)) {
      try {
        await job.remove();
        await this.results.forgetFingerprint(job.data.fingerprint, jobId);
        return `Cancelled job ${jobId} before it started.`;
      } catch {
        // It became active meanwhile (a locked job cannot be removed): stop it instead.
      }
    } else if (state !== 'active') {
      return `Job ${jobId} has already finished.`;
    }
    await this.#redis.set(cancelMarker(this.#options, jobId), userId, 'EX', 3600);
    await this.#redis.publish(cancelChannel(this.#options), jobId);
    return `Stopping job ${jobId}; its result will say when it has stopped.`;
  }

  /** A finished job's result, for `!log`. */
  result(jobId: string): Promise<JobResult | null> {
    return this.results.get(jobId);
  }

  /** Who started the job and where, for `!log` to decide who may read it; null when unknown. */
  origin(jobId: string): Promise<JobOrigin | null> {
    return this.results.owner(jobId);
  }

  /** How many jobs wait, run and wait out a retry's backoff (for the queue depth gauge). */
  async depth(): Promise<{ waiting: number; active: number; delayed: number }> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed');
    return { waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0 };
  }

  /** Settles when every watched job has delivered its result. */
  idle(): Promise<void> {
    if (this.#watchers.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#events.close(), this.queue.close()]);
    this.#redis.disconnect();
  }

  #watch(jobId: string, origin: JobOrigin, watcher: JobWatcher): void {
    this.#watchers.set(jobId, [...(this.#watchers.get(jobId) ?? []), { origin, watcher }]);
  }

  #progress(jobId: string, progress: JobProgress): void {
    for (const { watcher } of this.#watchers.get(jobId) ?? []) watcher.progress(progress);
  }

  /** Queued jobs move up when one starts. */
  async #updatePositions(): Promise<void> {
    if (this.#watchers.size === 0) return;
    const waiting = await this.#waitingIds();
    for (const jobId of this.#watchers.keys()) {
      const index = waiting.indexOf(jobId);
      if (index >= 0) this.#progress(jobId, { stage: 'queued', position: index + 1 });
    }
  }

  async #waitingIds(): Promise<string[]> {
    return (await this.queue.getJobs(['waiting', 'prioritized'], 0, -1, true)).map((job) => job.id ?? '');
  }

  /** 1-based place among the waiting jobs, or null when it is not waiting. */
  async #position(jobId: string): Promise<number | null> {
    const index = (await this.#waitingIds()).indexOf(jobId);
    return index < 0 ? null : index + 1;
  }

  async #completed(jobId: string, returnvalue: unknown): Promise<void> {
    if (!this.#watchers.has(jobId)) return;
    const result =
      (await this.results.get(jobId)) ??
      (typeof returnvalue === 'string' ? (JSON.parse(returnvalue) as JobResult) : (returnvalue as JobResult));
    await this.#deliver(result);
  }

  async #failed(jobId: string, reason: string): Promise<void> {
    if (!this.#watchers.has(jobId)) return;
    this.#options.log.error({ jobId, reason }, 'a job failed for good');
    await this.#deliver(
      noResult(
        jobId,
        `❌ job ${jobId} failed on my side after ${this.#options.attempts ?? JOB_ATTEMPTS} tries. Please try again later.`,
      ),
    );
  }

  async #deliver(result: JobResult): Promise<void> {
    const watchers = this.#watchers.get(result.jobId);
    if (!watchers) return;
    this.#watchers.delete(result.jobId);
    for (const { origin, watcher } of watchers) {
      await this.#admissions.release(origin, result.jobId);
      if (await this.results.claimDelivery(result.jobId, destinationOf(origin))) watcher.result(result);
    }
    if (this.#watchers.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  async #isLive(jobId: string): Promise<boolean> {
    return LIVE_STATES.has(await this.queue.getJobState(jobId));
  }
}

/** Where a result goes: one delivery per job and destination. */
const destinationOf = (origin: JobOrigin) => `${origin.platform}:${origin.conversation}:${origin.userId}`;

function isProgress(value: Job['progress']): value is JobProgress {
  return typeof value === 'object' && value !== null && 'stage' in value;
}

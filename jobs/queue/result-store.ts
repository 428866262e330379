/**
 * Job tickets, results, request fingerprints and delivery markers in Redis, all expiring after the
 * configured TTL: a ticket reserves a job id and says who started the job, `!log` reads results back, an
 * identical request reuses one, and a result reaches each origin once.
 */
import type { Redis } from 'ioredis';
import type { JobOrigin, JobOutcome, JobResult } from '../contracts.ts';

/** Results worth handing to an identical request; a timeout or our own failure deserves a fresh try. */
const REUSABLE: ReadonlySet<JobOutcome> = new Set([
  'success',
  'compile-error',
  'boot-failure',
  'config-ok',
  'config-problems',
]);

function isReusable(result: JobResult): boolean {
  return REUSABLE.has(result.outcome);
}

// KEYS: the id's ticket, its result, BullMQ's record of a job under it. ARGV: the owner, the TTL (s).
// A result or a BullMQ record can outlive a ticket (a job that took longer than the TTL to finish; a
// failed job, kept as long after it failed): an id is free only when nothing answers to it.
const RESERVE_ID = `
if redis.call('EXISTS', KEYS[2], KEYS[3]) > 0 then return 0 end
if redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX') then return 1 end
return 0
`;

export class ResultStore {
  readonly #redis: Redis;
  readonly #namespace: string;
  readonly #ttlSeconds: number;

  /** `namespace` keeps queues apart (tests use one per test); keys are `<namespace>:result:<id>` etc. */
  constructor(redis: Redis, namespace: string, ttlHours: number) {
    this.#redis = redis;
    this.#namespace = namespace;
    this.#ttlSeconds = ttlHours * 3600;
  }

  #key(kind: string, id: string): string {
    return `${this.#namespace}:${kind}:${id}`;
  }

  /**
   * `reusableAs`: the fingerprint the result really answers when it is not the one the job was submitted
   * under (it was built on another tree than the chat side expected); that one then points at it instead,
   * unless another job already has it.
   */
  async save(result: JobResult, fingerprint: string, options: { reusableAs?: string } = {}): Promise<void> {
    const reusableAs = options.reusableAs ?? fingerprint;
    const pipeline = this.#redis
      .multi()
      .set(this.#key('result', result.jobId), JSON.stringify(result), 'EX', this.#ttlSeconds)
      // Its owner is known, and its id stays taken, as long as the result lives.
      .expire(this.#key('job', result.jobId), this.#ttlSeconds);
    // The fingerprint points at the job from submission on; only a reusable result keeps it.
    if (!isReusable(result) || reusableAs !== fingerprint) {
      this.#forgetIfOwned(pipeline, fingerprint, result.jobId);
    }
    if (isReusable(result) && reusableAs !== fingerprint) {
      pipeline.set(this.#key('request', reusableAs), result.jobId, 'EX', this.#ttlSeconds, 'NX');
    }
    await pipeline.exec();
  }

  /**
   * Takes the id for a new job of `owner`'s unless it is in use; false when it is (the caller picks
   * another). `bullJobKey`: where BullMQ keeps a job under this id (Queue.toKey(jobId)).
   */
  async reserveJobId(jobId: string, owner: JobOrigin, bullJobKey: string): Promise<boolean> {
    const reserved = await this.#redis.eval(
      RESERVE_ID,
      3,
      this.#key('job', jobId),
      this.#key('result', jobId),
      bullJobKey,
      JSON.stringify(owner),
      this.#ttlSeconds,
    );
    return reserved === 1;
  }

  /** An id reserved for a job that was not started after all (a reused result, a refusal). */
  async releaseJobId(jobId: string): Promise<void> {
    await this.#redis.del(this.#key('job', jobId));
  }

  /** Who started the job; null when nobody did, or when it is too old for us to know. */
  async owner(jobId: string): Promise<JobOrigin | null> {
    const text = await this.#redis.get(this.#key('job', jobId));
    return text ? (JSON.parse(text) as JobOrigin) : null;
  }

  async get(jobId: string): Promise<JobResult | null> {
    const text = await this.#redis.get(this.#key('result', jobId));
    return text ? (JSON.parse(text) as JobResult) : null;
  }

  /** Points the fingerprint at this job unless another job already has it; returns that other job's id. */
  async claimFingerprint(fingerprint: string, jobId: string): Promise<string | null> {
    const key = this.#key('request', fingerprint);
    const set = await this.#redis.set(key, jobId, 'EX', this.#ttlSeconds, 'NX');
    return set === 'OK' ? null : await this.#redis.get(key);
  }

  async forgetFingerprint(fingerprint: string, jobId: string): Promise<void> {
    const pipeline = this.#redis.multi();
    this.#forgetIfOwned(pipeline, fingerprint, jobId);
    await pipeline.exec();
  }

  #forgetIfOwned(pipeline: ReturnType<Redis['multi']>, fingerprint: string, jobId: string): void {
    // Compare-and-delete, so a newer job that took the fingerprint over keeps it.
    pipeline.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
      1,
      this.#key('request', fingerprint),
      jobId,
    );
  }

  /** Whether claimDelivery was won for this job and destination. */
  async wasDelivered(jobId: string, destination: string): Promise<boolean> {
    return (await this.#redis.exists(this.#key('delivered', `${jobId}:${destination}`))) === 1;
  }

  /** True for exactly one caller per job and destination, however many times the result arrives. */
  async claimDelivery(jobId: string, destination: string): Promise<boolean> {
    const set = await this.#redis.set(
      this.#key('delivered', `${jobId}:${destination}`),
      '1',
      'EX',
      this.#ttlSeconds,
      'NX',
    );
    return set === 'OK';
  }
}

/**
 * Who may start a job now: per-user and per-room concurrency, a cap on the jobs waiting in the whole
 * queue and a daily per-user quota, checked and reserved in one Redis script so two chat processes cannot
 * both squeeze past a limit.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../../config/schema.ts';
import { plural } from '../../config/words.ts';
import type { JobOrigin } from '../contracts.ts';

export type JobLimits = Pick<
  Config['jobs'],
  'perUserConcurrent' | 'perRoomConcurrent' | 'maxWaiting' | 'dailyQuota'
>;

export type Admission =
  | { ok: true }
  | { ok: false; reason: 'user'; busyJobId: string }
  | { ok: false; reason: 'room'; running: number }
  | { ok: false; reason: 'busy'; waiting: number }
  | { ok: false; reason: 'quota'; used: number };

// KEYS: user set, room set, queue set, BullMQ's list of running jobs, quota counter.
// ARGV: job id, per-user, per-room, max waiting, quota, quota TTL (s).
// Every queued or running job is in the queue set, so those not running are the waiting ones; the set
// grows in this script, so two admissions at once both count each other.
const ADMIT = `
local mine = redis.call('SMEMBERS', KEYS[1])
if #mine >= tonumber(ARGV[2]) then return {'user', mine[1]} end
local room = redis.call('SCARD', KEYS[2])
if room >= tonumber(ARGV[3]) then return {'room', tostring(room)} end
local waiting = redis.call('SCARD', KEYS[3]) - redis.call('LLEN', KEYS[4])
if waiting >= tonumber(ARGV[4]) then return {'busy', tostring(waiting)} end
local used = tonumber(redis.call('GET', KEYS[5]) or '0')
if used >= tonumber(ARGV[5]) then return {'quota', tostring(used)} end
redis.call('INCR', KEYS[5])
redis.call('EXPIRE', KEYS[5], ARGV[6])
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return {'ok', ''}
`;

/** A refusal as the user hears it: which job keeps them busy, or how much of the quota is used. */
export type Refusal =
  | { ok: false; reason: 'user'; busyJobId: string; kind: string; running: boolean }
  | Exclude<Admission, { ok: true } | { reason: 'user' }>;

export function refusalText(refusal: Refusal, commandPrefix: string, now = new Date()): string {
  switch (refusal.reason) {
    case 'user': {
      const id = refusal.busyJobId;
      const state = refusal.running ? 'running' : 'queued';
      return `You have a ${refusal.kind} ${state} (${id}); I’ll take the next one when it finishes. (${commandPrefix}cancel ${id} stops it.)`;
    }
    case 'room':
      return `This room already has ${plural(refusal.running, 'job')} queued or running, the most it may have at once; try again when one finishes.`;
    case 'busy':
      return `I’m busy: ${plural(refusal.waiting, 'job')} ${refusal.waiting === 1 ? 'is' : 'are'} waiting for a free worker already, the most I queue at once. Please try again in a few minutes.`;
    case 'quota':
      return `That’s ${refusal.used} jobs today, your daily quota; it resets at 00:00 UTC (in ${untilUtcMidnight(now)}).`;
  }
}

/** "2026-11-23": quotas reset at 00:00 UTC. */
function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** "3 h 12 min" until the next 00:00 UTC. */
export function untilUtcMidnight(now: Date): string {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  const minutes = Math.ceil((midnight - now.getTime()) / 60_000);
  const hours = Math.floor(minutes / 60);
  return hours > 0 ? `${hours} h ${minutes % 60} min` : `${minutes} min`;
}

export interface AdmissionsOptions {
  redis: Redis;
  /** Our keys are `<namespace>:busy:…` and `<namespace>:quota:…`. */
  namespace: string;
  limits: JobLimits;
  /** BullMQ's list of the jobs workers are running (Queue.toKey('active')). */
  runningJobsKey: string;
  /** Whether a job still counts against a limit (queued or running); stale entries are dropped. */
  isLive: (jobId: string) => Promise<boolean>;
}

export class Admissions {
  readonly #options: AdmissionsOptions;

  constructor(options: AdmissionsOptions) {
    this.#options = options;
  }

  #userKey(origin: JobOrigin): string {
    return `${this.#options.namespace}:busy:user:${origin.platform}:${origin.userId}`;
  }

  /** The room, not the thread: on Matrix and Discord every top-level message starts a thread of its own. */
  #roomKey(origin: JobOrigin): string {
    return `${this.#options.namespace}:busy:room:${origin.platform}:${origin.room}`;
  }

  get #queueKey(): string {
    return `${this.#options.namespace}:busy:queue`;
  }

  async admit(origin: JobOrigin, jobId: string, now = new Date()): Promise<Admission> {
    // A chat process that died never released its jobs: prune what is no longer queued or running.
    await this.#prune(this.#userKey(origin));
    await this.#prune(this.#roomKey(origin));
    const admission = await this.#admit(origin, jobId, now);
    // The queue set holds every live job, too many to check on each submission: its stale entries are
    // looked for only when they would turn someone away.
    if (!admission.ok && admission.reason === 'busy' && (await this.#prune(this.#queueKey)) > 0)
      return this.#admit(origin, jobId, now);
    return admission;
  }

  async #admit(origin: JobOrigin, jobId: string, now: Date): Promise<Admission> {
    const { redis, namespace, limits } = this.#options;
    const quotaKey = `${namespace}:quota:${origin.platform}:${origin.userId}:${utcDay(now)}`;
    const [verdict, value = ''] = (await redis.eval(
      ADMIT,
      5,
      this.#userKey(origin),
      this.#roomKey(origin),
      this.#queueKey,
      this.#options.runningJobsKey,
      quotaKey,
      jobId,
      limits.perUserConcurrent,
      limits.perRoomConcurrent,
      limits.maxWaiting,
      limits.dailyQuota,
      2 * 24 * 3600,
    )) as [string, string];
    if (verdict === 'user') return { ok: false, reason: 'user', busyJobId: value };
    if (verdict === 'room') return { ok: false, reason: 'room', running: Number(value) };
    if (verdict === 'busy') return { ok: false, reason: 'busy', waiting: Number(value) };
    if (verdict === 'quota') return { ok: false, reason: 'quota', used: Number(value) };
    return { ok: true };
  }

  /** The job no longer counts against the concurrency limits (its quota use stays). */
  async release(origin: JobOrigin, jobId: string): Promise<void> {
    await this.#options.redis
      .multi()
      .srem(this.#userKey(origin), jobId)
      .srem(this.#roomKey(origin), jobId)
      .srem(this.#queueKey, jobId)
      .exec();
  }

  /** How many stale entries it dropped. */
  async #prune(key: string): Promise<number> {
    let dropped = 0;
    for (const jobId of await this.#options.redis.smembers(key)) {
      if (await this.#options.isLive(jobId)) continue;
      await this.#options.redis.srem(key, jobId);
      dropped += 1;
    }
    return dropped;
  }
}

/**
 * Who may start a job now: per-user and per-room concurrency and a daily per-user quota, checked and
 * reserved in one Redis script so two chat processes cannot both squeeze past a limit.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.ts';
import type { JobOrigin } from './contracts.ts';

export type JobLimits = Pick<Config['jobs'], 'perUserConcurrent' | 'perRoomConcurrent' | 'dailyQuota'>;

export type Admission =
  | { ok: true }
  | { ok: false; reason: 'user'; busyJobId: string }
  | { ok: false; reason: 'room'; running: number }
  | { ok: false; reason: 'quota'; used: number };

// KEYS: user set, room set, quota counter. ARGV: job id, per-user, per-room, quota, quota TTL (s).
const ADMIT = `
local mine = redis.call('SMEMBERS', KEYS[1])
if #mine >= tonumber(ARGV[2]) then return {'user', mine[1]} end
local room = redis.call('SCARD', KEYS[2])
if room >= tonumber(ARGV[3]) then return {'room', tostring(room)} end
local used = tonumber(redis.call('GET', KEYS[3]) or '0')
if used >= tonumber(ARGV[4]) then return {'quota', tostring(used)} end
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], ARGV[5])
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[1])
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
      return `This room already has ${refusal.running} jobs queued or running, the most it may have at once; try again when one finishes.`;
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

export class Admissions {
  readonly #redis: Redis;
  readonly #namespace: string;
  readonly #limits: JobLimits;
  /** Whether a job still counts against a limit (queued or running); stale entries are dropped. */
  readonly #isLive: (jobId: string) => Promise<boolean>;

  constructor(
    redis: Redis,
    namespace: string,
    limits: JobLimits,
    isLive: (jobId: string) => Promise<boolean>,
  ) {
    this.#redis = redis;
    this.#namespace = namespace;
    this.#limits = limits;
    this.#isLive = isLive;
  }

  #userKey(origin: JobOrigin): string {
    return `${this.#namespace}:busy:user:${origin.platform}:${origin.userId}`;
  }

  #roomKey(origin: JobOrigin): string {
    return `${this.#namespace}:busy:room:${origin.platform}:${origin.conversation}`;
  }

  async admit(origin: JobOrigin, jobId: string, now = new Date()): Promise<Admission> {
    // A chat process that died never released its jobs: prune what is no longer queued or running.
    await this.#prune(this.#userKey(origin));
    await this.#prune(this.#roomKey(origin));
    const quotaKey = `${this.#namespace}:quota:${origin.platform}:${origin.userId}:${utcDay(now)}`;
    const [verdict, value = ''] = (await this.#redis.eval(
      ADMIT,
      3,
      this.#userKey(origin),
      this.#roomKey(origin),
      quotaKey,
      jobId,
      this.#limits.perUserConcurrent,
      this.#limits.perRoomConcurrent,
      this.#limits.dailyQuota,
      2 * 24 * 3600,
    )) as [string, string];
    if (verdict === 'user') return { ok: false, reason: 'user', busyJobId: value };
    if (verdict === 'room') return { ok: false, reason: 'room', running: Number(value) };
    if (verdict === 'quota') return { ok: false, reason: 'quota', used: Number(value) };
    return { ok: true };
  }

  /** The job no longer counts against the concurrency limits (its quota use stays). */
  async release(origin: JobOrigin, jobId: string): Promise<void> {
    await this.#redis.multi().srem(this.#userKey(origin), jobId).srem(this.#roomKey(origin), jobId).exec();
  }

  async #prune(key: string): Promise<void> {
    for (const jobId of await this.#redis.smembers(key)) {
      if (!(await this.#isLive(jobId))) await this.#redis.srem(key, jobId);
    }
  }
}

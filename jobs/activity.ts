/**
 * What happened, durably: every question (answered or not, with the passages it was answered from),
 * every 👍/👎 and every job, in one Redis stream trimmed to the retention period, for the weekly digest.
 * People are kept as salted hashes: the digest counts askers, it never names them; questions asked in
 * private are marked so, and the digest counts them without quoting them.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { JobOutcome, JobRequest } from './contracts.ts';

export interface PassageRef {
  title: string;
  url: string;
}

export type ActivityEvent =
  | {
      type: 'question';
      at: number;
      platform: string;
      /** A salted hash of the platform's user id. */
      asker: string;
      question: string;
      /**
       * Asked in a direct message (or at the terminal): counted, never quoted. Events recorded before
       * this was kept lack it and are read as private.
       */
      private?: boolean;
      answered: boolean;
      confidence: number;
      kernelVersion: string | null;
      /** The passages the answer came from (or, for an abstention, the near misses it tried), best first. */
      passages: PassageRef[];
    }
  | {
      type: 'feedback';
      at: number;
      platform: string;
      rater: string;
      rating: 'up' | 'down';
      question: string;
      /** The question was asked in a direct message; as for questions, absent reads as private. */
      private?: boolean;
      /** The answer's sources, best first. */
      sources: string[];
    }
  | {
      type: 'job';
      at: number;
      jobId: string;
      kind: JobRequest['kind'];
      boot: boolean;
      outcome: JobOutcome;
      durationMs: number;
      kernelVersion: string | null;
    };

export interface ActivityLog {
  record(event: ActivityEvent): Promise<void>;
  /** How a user appears in the log: a salted hash, the same for the same user. */
  pseudonym(platform: string, userId: string): Promise<string>;
  /** Events with `from <= at < to`, oldest first. */
  between(from: number, to: number): Promise<ActivityEvent[]>;
}

const DAY_MS = 24 * 3600 * 1000;

/** One log per deployment, beside its queues (`rfl:activity`). */
export const activityKey = (location: { prefix: string }) => `${location.prefix}:activity`;

function hashed(platform: string, userId: string, salt: string): string {
  return createHash('sha256').update(`${salt}\u0000${platform}\u0000${userId}`).digest('hex').slice(0, 16);
}

export class RedisActivityLog implements ActivityLog {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #retentionMs: number;

  constructor(redis: Redis, options: { key?: string; retentionDays: number }) {
    this.#redis = redis;
    this.#key = options.key ?? 'rfl:activity';
    this.#retentionMs = options.retentionDays * DAY_MS;
  }

  #salt: Promise<string> | null = null;

  /** The salt is made once and kept beside the log, so every bot instance hashes alike. */
  async pseudonym(platform: string, userId: string): Promise<string> {
    this.#salt ??= (async () => {
      const key = `${this.#key}:salt`;
      await this.#redis.set(key, randomBytes(16).toString('hex'), 'NX');
      return (await this.#redis.get(key)) ?? '';
    })();
    return hashed(platform, userId, await this.#salt);
  }

  async record(event: ActivityEvent): Promise<void> {
    // Stream ids are milliseconds: trimming by MINID drops whatever is older than the retention period.
    const oldest = Math.max(0, Date.now() - this.#retentionMs);
    await this.#redis.xadd(this.#key, 'MINID', String(oldest), '*', 'event', JSON.stringify(event));
  }

  async between(from: number, to: number): Promise<ActivityEvent[]> {
    const events: ActivityEvent[] = [];
    // An event is written when it happens or later (ids >= at), so everything from `from` on is read.
    let start = String(Math.max(0, Math.floor(from)));
    for (;;) {
      const page = await this.#redis.xrange(this.#key, start, '+', 'COUNT', 1000);
      for (const [, fields] of page) {
        const json = fields[fields.indexOf('event') + 1];
        if (json) events.push(JSON.parse(json) as ActivityEvent);
      }
      if (page.length < 1000) break;
      start = `(${page.at(-1)?.[0]}`;
    }
    return events.filter((event) => event.at >= from && event.at < to);
  }
}

export class MemoryActivityLog implements ActivityLog {
  readonly #events: ActivityEvent[] = [];
  readonly #salt = randomBytes(16).toString('hex');

  async pseudonym(platform: string, userId: string): Promise<string> {
    return hashed(platform, userId, this.#salt);
  }

  async record(event: ActivityEvent): Promise<void> {
    this.#events.push(event);
  }

  async between(from: number, to: number): Promise<ActivityEvent[]> {
    return this.#events.filter((event) => event.at >= from && event.at < to);
  }
}

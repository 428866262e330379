/**
 * What the chat side must remember beyond one message, behind one interface with a Redis implementation
 * (durable, shared by every bot instance) and an in-memory one (the terminal, or a bot without Redis):
 * which events were handled, which replies answer which message, the answers feedback is about, the jobs
 * whose result is still owed, and which messages of a user were answered in the last minute.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { MessageRef } from '../chat/capabilities.ts';
import type { OwedJob } from '../job-follow/chat-jobs.ts';

/** The bot's messages that answer one user message, for re-running it on an edit or removing them. */
export interface ReplyRecord {
  refs: MessageRef[];
  /** When the user's message was first answered (ms since the epoch): edits re-run it within a window. */
  answeredAt: number;
}

/** What a 👍/👎 on one of the bot's messages is about. */
export interface AnswerRecord {
  question: string;
  /** Asked in a direct message: feedback on it is recorded as private (absent in older records: private). */
  private?: boolean;
  askerId: string;
  /** The links the answer cited, best first. */
  sources: string[];
  answeredAt: number;
}

export type Rating = 'up' | 'down';

export type RateDecision = 'answer' | 'note' | 'silence';

export interface ChatLedger {
  /** True for the first claim of a key: a replayed event (restart, reconnect, a second instance) is not. */
  claim(eventKey: string): Promise<boolean>;
  /**
   * A user's message against their limit per minute, a sliding minute (fixed minutes would let twice the
   * limit through around their boundary): `answer` and counted; over the limit, `note` the first time
   * (until the user has been quiet for a minute), `silence` after that.
   */
  admitMessage(userKey: string, perMinute: number): Promise<RateDecision>;
  saveReplies(messageKey: string, record: ReplyRecord): Promise<void>;
  replies(messageKey: string): Promise<ReplyRecord | null>;
  forgetReplies(messageKey: string): Promise<void>;
  saveAnswer(botMessageKey: string, record: AnswerRecord): Promise<void>;
  answer(botMessageKey: string): Promise<AnswerRecord | null>;
  /** One rating per user and answer (a later one replaces it); false when it was already this rating. */
  rate(botMessageKey: string, userId: string, rating: Rating): Promise<boolean>;
  /** The ratings of an answer by user. */
  ratings(botMessageKey: string): Promise<Record<string, Rating>>;
  /** A job whose result is still to be sent on `platform`, until `settle`. */
  owe(platform: string, job: OwedJob): Promise<void>;
  settle(platform: string, jobId: string): Promise<void>;
  /** The jobs still owed on `platform`, oldest first (those older than results are kept are dropped). */
  owed(platform: string): Promise<OwedJob[]>;
}

const DAY_S = 24 * 3600;
/** Platforms redeliver within minutes or hours; a week covers any reconnect or restart. */
const CLAIM_TTL_S = 7 * DAY_S;
const REPLY_TTL_S = 7 * DAY_S;
const ANSWER_TTL_S = 90 * DAY_S;
const MINUTE_MS = 60_000;
/** Results are kept a week by default (jobs.resultTtlHours); an older obligation can no longer be met. */
const OWED_MAX_AGE_MS = 7 * DAY_S * 1000;

/**
 * One user's message against the limit, atomically (several bot instances share the user's record).
 * KEYS: the user's answered messages (a sorted set scored by time), the mark that they were told to slow
 * down. ARGV: now (ms), the window (ms), the limit, a member unique to this message.
 */
const ADMIT_MESSAGE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 'answer'
end
local noted = redis.call('EXISTS', KEYS[2]) == 1
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
if noted then return 'silence' end
return 'note'
`;

const current = (jobs: OwedJob[]) =>
  jobs
    .filter((job) => Date.now() - job.submittedAt < OWED_MAX_AGE_MS)
    .sort((a, b) => a.submittedAt - b.submittedAt);

export class RedisChatLedger implements ChatLedger {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix = 'rfl:chat') {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  #key(...parts: string[]): string {
    return [this.#prefix, ...parts].join(':');
  }

  async claim(eventKey: string): Promise<boolean> {
    return (await this.#redis.set(this.#key('event', eventKey), '1', 'EX', CLAIM_TTL_S, 'NX')) === 'OK';
  }

  async admitMessage(userKey: string, perMinute: number): Promise<RateDecision> {
    const member = `${Date.now()}:${randomBytes(4).toString('hex')}`;
    return (await this.#redis.eval(
      ADMIT_MESSAGE,
      2,
      this.#key('rate', userKey),
      this.#key('rate-noted', userKey),
      Date.now(),
      MINUTE_MS,
      perMinute,
      member,
    )) as RateDecision;
  }

  async saveReplies(messageKey: string, record: ReplyRecord): Promise<void> {
    await this.#redis.set(this.#key('replies', messageKey), JSON.stringify(record), 'EX', REPLY_TTL_S);
  }

  async replies(messageKey: string): Promise<ReplyRecord | null> {
    const raw = await this.#redis.get(this.#key('replies', messageKey));
    return raw ? (JSON.parse(raw) as ReplyRecord) : null;
  }

  async forgetReplies(messageKey: string): Promise<void> {
    await this.#redis.del(this.#key('replies', messageKey));
  }

  async saveAnswer(botMessageKey: string, record: AnswerRecord): Promise<void> {
    await this.#redis.set(this.#key('answer', botMessageKey), JSON.stringify(record), 'EX', ANSWER_TTL_S);
  }

  async answer(botMessageKey: string): Promise<AnswerRecord | null> {
    const raw = await this.#redis.get(this.#key('answer', botMessageKey));
    return raw ? (JSON.parse(raw) as AnswerRecord) : null;
  }

  async rate(botMessageKey: string, userId: string, rating: Rating): Promise<boolean> {
    const key = this.#key('ratings', botMessageKey);
    const previous = await this.#redis.hget(key, userId);
    if (previous === rating) return false;
    await this.#redis.multi().hset(key, userId, rating).expire(key, ANSWER_TTL_S).exec();
    return true;
  }

  async ratings(botMessageKey: string): Promise<Record<string, Rating>> {
    return (await this.#redis.hgetall(this.#key('ratings', botMessageKey))) as Record<string, Rating>;
  }

  async owe(platform: string, job: OwedJob): Promise<void> {
    await this.#redis.hset(this.#key('owed', platform), job.jobId, JSON.stringify(job));
  }

  async settle(platform: string, jobId: string): Promise<void> {
    await this.#redis.hdel(this.#key('owed', platform), jobId);
  }

  async owed(platform: string): Promise<OwedJob[]> {
    const all = Object.values(await this.#redis.hgetall(this.#key('owed', platform)));
    const jobs = all.map((raw) => JSON.parse(raw) as OwedJob);
    const kept = current(jobs);
    for (const stale of jobs.filter((job) => !kept.includes(job))) await this.settle(platform, stale.jobId);
    return kept;
  }
}

/**
 * How many records the in-memory ledger keeps at most: far more than a terminal session or a small bot
 * produces, and a bound on what a long-running one holds: the records of users who never return are
 * not read again, so only this bound drops them.
 */
const MEMORY_LEDGER_ENTRIES = 100_000;

/** The same, in this process only: forgotten on restart, which is why bots in rooms use Redis. */
export class MemoryChatLedger implements ChatLedger {
  // Expired entries read as absent; they are dropped when read or when the least recently used go.
  readonly #entries = new LRUCache<string, { value: unknown }>({ max: MEMORY_LEDGER_ENTRIES });

  #get<T>(key: string): T | null {
    return (this.#entries.get(key)?.value as T | undefined) ?? null;
  }

  #set(key: string, value: unknown, ttlSeconds: number): void {
    this.#entries.set(key, { value }, { ttl: ttlSeconds * 1000 });
  }

  async claim(eventKey: string): Promise<boolean> {
    const key = `event:${eventKey}`;
    if (this.#get(key)) return false;
    this.#set(key, true, CLAIM_TTL_S);
    return true;
  }

  async admitMessage(userKey: string, perMinute: number): Promise<RateDecision> {
    const now = Date.now();
    const answered = (this.#get<number[]>(`rate:${userKey}`) ?? []).filter((at) => at > now - MINUTE_MS);
    if (answered.length < perMinute) {
      this.#set(`rate:${userKey}`, [...answered, now], MINUTE_MS / 1000);
      return 'answer';
    }
    const noted = this.#get(`rate-noted:${userKey}`) !== null;
    this.#set(`rate-noted:${userKey}`, true, MINUTE_MS / 1000);
    return noted ? 'silence' : 'note';
  }

  async saveReplies(messageKey: string, record: ReplyRecord): Promise<void> {
    this.#set(`replies:${messageKey}`, record, REPLY_TTL_S);
  }

  async replies(messageKey: string): Promise<ReplyRecord | null> {
    return this.#get(`replies:${messageKey}`);
  }

  async forgetReplies(messageKey: string): Promise<void> {
    this.#entries.delete(`replies:${messageKey}`);
  }

  async saveAnswer(botMessageKey: string, record: AnswerRecord): Promise<void> {
    this.#set(`answer:${botMessageKey}`, record, ANSWER_TTL_S);
  }

  async answer(botMessageKey: string): Promise<AnswerRecord | null> {
    return this.#get(`answer:${botMessageKey}`);
  }

  async rate(botMessageKey: string, userId: string, rating: Rating): Promise<boolean> {
    const ratings = await this.ratings(botMessageKey);
    if (ratings[userId] === rating) return false;
    this.#set(`ratings:${botMessageKey}`, { ...ratings, [userId]: rating }, ANSWER_TTL_S);
    return true;
  }

  async ratings(botMessageKey: string): Promise<Record<string, Rating>> {
    return this.#get(`ratings:${botMessageKey}`) ?? {};
  }

  readonly #owed = new Map<string, Map<string, OwedJob>>();

  async owe(platform: string, job: OwedJob): Promise<void> {
    const jobs = this.#owed.get(platform) ?? new Map<string, OwedJob>();
    this.#owed.set(platform, jobs.set(job.jobId, job));
  }

  async settle(platform: string, jobId: string): Promise<void> {
    this.#owed.get(platform)?.delete(jobId);
  }

  async owed(platform: string): Promise<OwedJob[]> {
    return current([...(this.#owed.get(platform)?.values() ?? [])]);
  }
}

/** 👍/👎 (any skin tone, with or without the emoji variation selector) as a rating. */
export function ratingOfEmoji(emoji: string | null | undefined): Rating | null {
  if (!emoji) return null;
  if (emoji.startsWith('👍')) return 'up';
  if (emoji.startsWith('👎')) return 'down';
  return null;
}

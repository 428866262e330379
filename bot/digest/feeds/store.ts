/**
 * Each feed item reported once: its id claimed in Redis, so two digest runs or two processes never both
 * report it, and the conditional-GET state kept per feed. A failed fetch changes no state, so the next
 * good fetch still returns everything not reported yet. Redis errors do throw (our side failed).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { FeedConfig, FeedFailure, FeedItem, FeedState } from './feed.ts';
import { type FetchOptions, fetchFeed } from './fetch.ts';

export type NewItems = { ok: true; items: FeedItem[]; notModified: boolean } | FeedFailure;

// KEYS: the feed's seen set. ARGV: now (ms), how many ids to keep, the ids. Returns the ids newly claimed.
// One script, so of two callers claiming the same id exactly one gets it.
const CLAIM = `
local won = {}
for i = 3, #ARGV do
  if redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[i]) == 1 then won[#won + 1] = ARGV[i] end
end
local keep = math.max(tonumber(ARGV[2]), #ARGV - 2)
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -keep - 1)
return won
`;

export const DEFAULT_KEEP_IDS = 2000;

export class FeedStore {
  readonly #redis: Redis;
  readonly #namespace: string;
  readonly #keepIds: number;

  /**
   * Keys are `<namespace>:feed:<url hash>:seen` (a sorted set of reported ids, scored by when they were
   * first reported) and `…:http` (the ETag/Last-Modified). `keepIds` bounds the set; it must exceed the
   * number of items a feed lists at once, or the oldest would come back (a claim never trims below the
   * batch it just claimed, so one fetch cannot evict itself).
   */
  constructor(redis: Redis, namespace: string, options: { keepIds?: number } = {}) {
    this.#redis = redis;
    this.#namespace = namespace;
    this.#keepIds = options.keepIds ?? DEFAULT_KEEP_IDS;
  }

  #key(feedUrl: string, kind: 'seen' | 'http'): string {
    const hash = createHash('sha256').update(feedUrl).digest('hex').slice(0, 16);
    return `${this.#namespace}:feed:${hash}:${kind}`;
  }

  /**
   * The items of the feed not reported before, each to exactly one caller. They count as reported once
   * returned: a caller that then fails to post them does not get them again.
   */
  async newItems(feed: FeedConfig, options: Omit<FetchOptions, 'name'> = {}): Promise<NewItems> {
    const fetched = await fetchFeed(feed.url, await this.state(feed.url), { ...options, name: feed.name });
    if (!fetched.ok) return fetched;
    if (fetched.notModified) return { ok: true, items: [], notModified: true };
    // Claim before remembering the ETag: a crash in between costs a refetch, never an item.
    const items = await this.claim(feed.url, fetched.items);
    await this.saveState(feed.url, fetched.state);
    return { ok: true, items, notModified: false };
  }

  /** Those of `items` no earlier call claimed, in their order; atomic against concurrent callers. */
  async claim(feedUrl: string, items: readonly FeedItem[]): Promise<FeedItem[]> {
    if (items.length === 0) return [];
    const won = (await this.#redis.eval(
      CLAIM,
      1,
      this.#key(feedUrl, 'seen'),
      Date.now(),
      this.#keepIds,
      ...items.map((i) => i.id),
    )) as string[];
    const claimed = new Set(won);
    return items.filter((i) => claimed.has(i.id));
  }

  async state(feedUrl: string): Promise<FeedState> {
    const stored = await this.#redis.hgetall(this.#key(feedUrl, 'http'));
    return { etag: stored.etag || null, lastModified: stored.lastModified || null };
  }

  async saveState(feedUrl: string, state: FeedState): Promise<void> {
    const key = this.#key(feedUrl, 'http');
    await this.#redis
      .multi()
      .del(key)
      .hset(key, { etag: state.etag ?? '', lastModified: state.lastModified ?? '' })
      .exec();
  }
}

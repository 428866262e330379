/**
 * The weekly digest, end to end: prepared once per ISO week (its content stored in Redis, so every
 * target, retry and bot instance posts the same digest and feed items are taken once), posted to each
 * target exactly once (a per-target record of the steps done, a lock, and idempotency keys on every
 * send, so a crash between sending and recording does not post twice), optionally after an admin's ✅,
 * and scheduled by a BullMQ job scheduler (cron and time zone from the config).
 */
import { createHash, randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { isAdmin } from '../../config/admins.ts';
import type { Logger } from '../../config/logger.ts';
import type { ActivityLog } from '../../jobs/activity.ts';
import type { MessageSender } from '../chat/capabilities.ts';
import type { ConversationRef } from '../chat/message.ts';
import type { RichMessage } from '../chat/rich-message.ts';
import { compareDocs, composeDigest, type Digest, type DocSection, type FeedNews } from './compose.ts';
import type { FeedConfig } from './feeds/feed.ts';
import { groupPatchSeries } from './feeds/series.ts';
import { FeedStore } from './feeds/store.ts';
import { type IsoWeek, isoWeekOf, reportedWeek } from './iso-week.ts';

export type DigestPlatform = 'matrix' | 'discord' | 'zulip' | 'terminal';

/** Where a digest goes: a Matrix room or Discord channel id; a Zulip channel id and its topic. */
export interface DigestTarget {
  platform: DigestPlatform;
  room: string;
  /** A conversation of its own (Zulip's topic): the whole digest goes there, not in a thread of the lead. */
  topic?: string;
}

export interface DigestServiceOptions {
  redis: Redis;
  /** Keys are `<namespace>:…`; BullMQ's scheduler queue is named after it too. */
  namespace: string;
  redisUrl: string;
  activity: ActivityLog;
  /** The indexed docs now, to tell what changed since the last digest. */
  docs: () => DocSection[];
  feeds: readonly FeedConfig[];
  feedTimeoutMs: number;
  targets: readonly DigestTarget[];
  /** With approval, the digest goes to these rooms first and out once an admin reacts ✅ there. */
  approval: { required: boolean; adminRooms: readonly DigestTarget[]; admins: readonly string[] };
  log: Logger;
}

/** How the service reaches each platform; platforms not connected in this process are absent. */
export type DigestSenders = Partial<Record<DigestPlatform, MessageSender>>;

/** The indexed docs as of one digest, and what that digest compared them with. */
interface DocsSnapshot {
  week: string;
  sections: DocSection[];
  previous: DocSection[] | null;
}

/** A lock lives this long unless its holder renews it: a killed instance's lock is soon free again. */
const LOCK_MS = 15_000;
/** How long an instance waits for another one's composition. */
const COMPOSE_WAIT_MS = 10 * 60 * 1000;
const STORED_DAYS = 60;
const SCHEDULER_ID = 'weekly-digest';
/** KEYS[1] is a lock, ARGV[1] the holder's token. */
const DELETE_IF_OURS = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;
/** The same, ARGV[2] the lock's new lifetime in ms. */
const RENEW_IF_OURS = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0`;

/** A target's key in Redis; a target without a topic keeps the key it had before topics existed. */
const targetKey = ({ platform, room, topic }: DigestTarget) => {
  const where = topic === undefined ? room : `${room}\u0000${topic}`;
  return `${platform}:${createHash('sha256').update(where).digest('hex').slice(0, 12)}`;
};

export interface PublishReport {
  posted: DigestTarget[];
  /** Already posted earlier (a restart, another instance, a repeated run). */
  skipped: DigestTarget[];
  /** Not connected here, or busy in another instance: tried again on the next run. */
  pending: DigestTarget[];
}

export class DigestService {
  readonly #options: DigestServiceOptions;
  readonly #redis: Redis;
  readonly #feeds: FeedStore;

  constructor(options: DigestServiceOptions) {
    this.#options = options;
    this.#redis = options.redis;
    this.#feeds = new FeedStore(options.redis, options.namespace);
  }

  #key(...parts: string[]): string {
    return [this.#options.namespace, ...parts].join(':');
  }

  /** The digest of `week`, composed the first time it is asked for and the same ever after. */
  async prepare(week: IsoWeek): Promise<Digest> {
    const key = this.#key('content', week.label);
    const stored = await this.#redis.get(key);
    if (stored) return JSON.parse(stored) as Digest;
    // One instance composes (and so takes the week's feed items); the others wait for its result.
    const release = await this.#lock(this.#key('composing', week.label));
    if (!release) {
      for (let waited = 0; waited < COMPOSE_WAIT_MS; waited += 500) {
        const ready = await this.#redis.get(key);
        if (ready) return JSON.parse(ready) as Digest;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      throw new Error(`the digest of ${week.label} is still being composed elsewhere`);
    }
    try {
      const digest = composeDigest({
        week,
        events: await this.#options.activity.between(week.start, week.end),
        docs: await this.#docsChanges(week),
        feeds: await this.#feedNews(),
      });
      await this.#redis.set(key, JSON.stringify(digest), 'EX', STORED_DAYS * 86_400);
      this.#options.log.info({ week: week.label, quiet: digest.quiet }, 'digest composed');
      return digest;
    } finally {
      await release();
    }
  }

  /** Takes `key` for this instance, renewed while held; null when another instance holds it. */
  async #lock(key: string): Promise<(() => Promise<void>) | null> {
    const token = randomBytes(8).toString('hex');
    if ((await this.#redis.set(key, token, 'PX', LOCK_MS, 'NX')) !== 'OK') return null;
    // Renewal and release touch only our own lock: after a long pause it may have expired and been
    // taken by another instance. Compare and act in one script, so nothing can slip in between.
    const renew = setInterval(() => {
      this.#redis.eval(RENEW_IF_OURS, 1, key, token, LOCK_MS).catch(() => {});
    }, LOCK_MS / 3);
    return async () => {
      clearInterval(renew);
      await this.#redis.eval(DELETE_IF_OURS, 1, key, token);
    };
  }

  /** What the digest of the week so far would say; takes no feed items and moves no snapshot. */
  async preview(now = Date.now()): Promise<RichMessage> {
    const week = isoWeekOf(now);
    const stored = await this.#redis.get(this.#key('docs'));
    const digest = composeDigest({
      week,
      events: await this.#options.activity.between(week.start, now),
      docs: compareDocs(stored ? (JSON.parse(stored) as DocsSnapshot).sections : null, this.#options.docs()),
      feeds: [],
    });
    const feeds = this.#options.feeds.map((feed) => feed.name);
    return {
      lead: `Preview of the digest so far (${week.label}) — ${digest.lead.lead}`,
      details: [
        ...digest.details.flatMap((message) => ['', message.lead, ...message.details]),
        ...(feeds.length > 0 ? ['', `Feeds (${feeds.join(', ')}) are read when the digest is sent.`] : []),
      ],
      sources: [],
    };
  }

  /** Compares the docs now with the snapshot of the previous digest, and keeps this one for the next. */
  async #docsChanges(week: IsoWeek) {
    const now = this.#options.docs();
    const raw = await this.#redis.get(this.#key('docs'));
    const stored = raw ? (JSON.parse(raw) as DocsSnapshot) : null;
    // Composing a week again (its stored content expired) compares with what that week compared with.
    const baseline = stored?.week === week.label ? stored.previous : (stored?.sections ?? null);
    const snapshot: DocsSnapshot = { week: week.label, sections: now, previous: baseline };
    await this.#redis.set(this.#key('docs'), JSON.stringify(snapshot));
    return compareDocs(baseline, now);
  }

  async #feedNews(): Promise<FeedNews[]> {
    const news: FeedNews[] = [];
    for (const feed of this.#options.feeds) {
      const fetched = await this.#feeds.newItems(feed, { timeoutMs: this.#options.feedTimeoutMs });
      if (fetched.ok) news.push({ feed: feed.name, entries: groupPatchSeries(fetched.items) });
      else {
        this.#options.log.warn({ feed: feed.url, reason: fetched.logMessage }, 'digest: a feed failed');
        news.push({ feed: feed.name, entries: [], failure: fetched.userMessage });
      }
    }
    return news;
  }

  /**
   * Posts the digest to each target that has not had it: the lead, then each detail and the chart in
   * the lead's thread (after the lead in a target's topic), recording each step. A target busy in another instance, or whose platform is not
   * connected here, is left for the next run.
   */
  async publish(
    digest: Digest,
    targets: readonly DigestTarget[],
    senders: DigestSenders,
  ): Promise<PublishReport> {
    const report: PublishReport = { posted: [], skipped: [], pending: [] };
    for (const target of targets) {
      const sender = senders[target.platform];
      const state = this.#key('posted', digest.week, targetKey(target));
      if ((await this.#redis.hget(state, 'done')) === '1') {
        report.skipped.push(target);
        continue;
      }
      const release = sender ? await this.#lock(`${state}:lock`) : null;
      if (!sender || !release) {
        report.pending.push(target);
        continue;
      }
      try {
        await this.#postSteps(digest, target, sender, state);
        report.posted.push(target);
      } finally {
        await release();
      }
    }
    return report;
  }

  async #postSteps(
    digest: Digest,
    target: DigestTarget,
    sender: MessageSender,
    state: string,
  ): Promise<void> {
    const { log } = this.#options;
    const once = (step: string) => `rfl-digest-${digest.week}-${targetKey(target)}-${step}`;
    const room: ConversationRef = {
      roomId: target.room,
      ...(target.topic ? { threadId: target.topic } : {}),
    };
    let leadId = await this.#redis.hget(state, 'lead');
    if (!leadId) {
      const where = target.topic ? 'Details below, in this topic.' : 'Details in the thread.';
      const lead =
        digest.details.length > 0
          ? { ...digest.lead, details: [where, ...digest.lead.details] }
          : digest.lead;
      leadId = (await sender.send(room, lead, { idempotencyKey: once('lead') })).messageId;
      await this.#redis
        .multi()
        .hset(state, 'lead', leadId)
        .expire(state, STORED_DAYS * 86_400)
        .exec();
      log.info({ week: digest.week, target, step: 'lead' }, 'digest: lead posted');
    }
    const thread: ConversationRef = target.topic ? room : { roomId: target.room, threadId: leadId };
    const steps: [string, RichMessage][] = digest.details.map((message, n) => [`detail-${n}`, message]);
    if (digest.chartPng)
      steps.push([
        'chart',
        {
          lead: `Questions and builds per day, ${digest.week}.`,
          details: [],
          sources: [],
          image: { name: `digest-${digest.week}.png`, png: Buffer.from(digest.chartPng, 'base64') },
        },
      ]);
    for (const [step, message] of steps) {
      if (await this.#redis.hget(state, step)) continue;
      const sent = await sender.send(thread, message, { replyTo: leadId, idempotencyKey: once(step) });
      await this.#redis.hset(state, step, sent.messageId);
      log.info({ week: digest.week, target, step }, 'digest: posted');
    }
    await this.#redis.hset(state, 'done', '1');
  }

  /**
   * One scheduled run: prepares last week's digest and posts it, or, with approval required, shows it in
   * the admin rooms to be approved with ✅ (approved(): posts it then).
   */
  async run(senders: DigestSenders, now = Date.now()): Promise<PublishReport> {
    const digest = await this.prepare(reportedWeek(now));
    const { approval } = this.#options;
    if (approval.required && (await this.#redis.hget(this.#key('approved'), digest.week)) === null) {
      await this.#askApproval(digest, senders);
      return { posted: [], skipped: [], pending: [...this.#options.targets] };
    }
    return this.publish(digest, this.#options.targets, senders);
  }

  async #askApproval(digest: Digest, senders: DigestSenders): Promise<void> {
    const asking: Digest = {
      ...digest,
      lead: {
        ...digest.lead,
        details: [
          ...digest.lead.details,
          'An admin reacting ✅ to this message sends it to the digest rooms.',
        ],
      },
    };
    const report = await this.publish(
      { ...asking, week: `${digest.week}-approval` },
      this.#options.approval.adminRooms,
      senders,
    );
    for (const target of report.posted) {
      const state = this.#key('posted', `${digest.week}-approval`, targetKey(target));
      const leadId = await this.#redis.hget(state, 'lead');
      if (leadId) await this.#redis.hset(this.#key('awaiting'), `${target.platform}:${leadId}`, digest.week);
    }
  }

  /**
   * A reaction on one of the bot's messages: ✅ by an admin on an approval request approves that week's
   * digest (once) and posts it. True when it did.
   */
  async approved(
    platform: DigestPlatform,
    messageId: string,
    userId: string,
    senders: DigestSenders,
  ): Promise<boolean> {
    if (!isAdmin(this.#options.approval.admins, platform, userId)) return false;
    const week = await this.#redis.hget(this.#key('awaiting'), `${platform}:${messageId}`);
    if (!week) return false;
    await this.#redis.hsetnx(this.#key('approved'), week, userId);
    this.#options.log.info({ week, userId }, 'digest approved');
    const digest = await this.#redis.get(this.#key('content', week));
    if (!digest) return false;
    await this.publish(JSON.parse(digest) as Digest, this.#options.targets, senders);
    return true;
  }

  /**
   * Runs the digest on the cron schedule (in `timeZone`) through a BullMQ job scheduler: however many
   * instances upsert it, one job fires per tick, and publish() makes a repeated tick harmless.
   */
  async schedule(
    cron: string,
    timeZone: string,
    senders: () => DigestSenders,
  ): Promise<{ close(): Promise<void> }> {
    const { log, redisUrl, namespace } = this.#options;
    const connection = { url: redisUrl };
    const queueName = 'digest';
    const queue = new Queue(queueName, { connection, prefix: namespace });
    await queue.upsertJobScheduler(SCHEDULER_ID, { pattern: cron, tz: timeZone }, { name: 'digest' });
    const worker = new Worker(
      queueName,
      async () => {
        const report = await this.run(senders());
        log.info(
          { posted: report.posted.length, skipped: report.skipped.length, pending: report.pending.length },
          'digest run',
        );
        return report;
      },
      { connection, prefix: namespace, concurrency: 1 },
    );
    worker.on('failed', (job, error) => log.error({ err: error, jobId: job?.id }, 'digest run failed'));
    worker.on('error', (error) => log.warn({ err: error }, 'digest worker error'));
    log.info({ cron, timeZone }, 'weekly digest scheduled');
    return {
      async close() {
        await worker.close();
        await queue.close();
      },
    };
  }
}

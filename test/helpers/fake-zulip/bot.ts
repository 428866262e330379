/**
 * The Zulip bot on a fresh fake Zulip with what a deployment has behind it: a private Redis holding the
 * chat ledger, the real job queue and a worker building against the prepared 6.1 tree. The bot can be
 * restarted as a process would be (a new client, dispatcher and memory; the same Redis).
 */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startZulipBot, type ZulipBot } from '../../../bot/adapters/zulip/bot.ts';
import { RedisChatLedger } from '../../../bot/dispatch/chat-ledger.ts';
import { createDispatcher } from '../../../bot/dispatch/dispatcher.ts';
import { createRouter, type RouterOptions } from '../../../bot/dispatch/router.ts';
import type { JobQueue } from '../../../jobs/queue/queue.ts';
import type { KnowledgeService } from '../../../knowledge/answer-types.ts';
import { eventually } from '../fake-discord/bot.ts';
import { log, openQueue, privateRedis, startWorker, testConfig, uniqueLocation } from '../jobs.ts';
import { preparedTree } from '../prepared-tree.ts';
import { FakeZulip, type FakeZulipUser } from './index.ts';

export const botUser = { user_id: 5, email: 'onboard-bot@zulip.test', full_name: 'Onboard', apiKey: 'k3y' };

export interface ZulipWithJobs {
  fake: FakeZulip;
  bot: ZulipBot;
  queue: JobQueue;
  ledger: RedisChatLedger;
  redisUrl: string;
  /** The bot's process stops and starts again; what happened meanwhile is up to the test. */
  restartBot(whileDown?: () => Promise<void>): Promise<void>;
  /**
   * Runs `meanwhile` while the worker takes no job: what a test does "mid-job" happens before the
   * build can finish, however fast it is, and the job starts afterwards.
   */
  withJobsHeld(meanwhile: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

export async function startZulipWithJobs(options: {
  knowledge: KnowledgeService;
  /** Channels where commands need no mention. */
  channels: string[];
  admins?: string[];
  digest?: RouterOptions['digest'];
}): Promise<ZulipWithJobs> {
  await preparedTree();
  const config = testConfig({ perUserConcurrent: 10, maxSourceKb: 8 });
  const redis = await privateRedis();
  const location = uniqueLocation(redis.url);
  const worker = await startWorker(location, config);
  const queue = await openQueue(location, config);
  const ledgerRedis = new Redis(redis.url);
  const ledger = new RedisChatLedger(ledgerRedis, `rfltest:zulip:${process.pid}`);
  const fake = await new FakeZulip({ bot: botUser, heartbeatMs: 5000 }).start();

  async function startBot(): Promise<ZulipBot> {
    const router = createRouter({
      knowledge: options.knowledge,
      chat: { commandPrefix: '!', botName: 'rfl-onboard', admins: options.admins ?? [] },
      log,
      jobs: { queue, limits: config.jobs },
      digest: options.digest ?? null,
    });
    const dispatcher = createDispatcher({
      router,
      ledger,
      platform: 'zulip',
      userMessagesPerMinute: 100,
      editWindowMs: 300_000,
      log,
      jobs: queue,
    });
    const started = await startZulipBot({
      credentials: { site: fake.siteUrl, email: botUser.email, apiKey: botUser.apiKey },
      channels: options.channels,
      dispatcher,
      log,
      catchUpMs: 10 * 60_000,
      clientOptions: { backoffBaseMs: 20, backoffMaxMs: 100 },
    });
    assert.ok(started.ok);
    const bot = started.value;
    await eventually(async () => bot.isConnected() || undefined);
    return bot;
  }

  const env: ZulipWithJobs = {
    fake,
    bot: await startBot(),
    queue,
    ledger,
    redisUrl: redis.url,
    async restartBot(whileDown) {
      await env.bot.stop();
      await whileDown?.();
      env.bot = await startBot();
    },
    async withJobsHeld(meanwhile) {
      await worker.jobWorker.worker.pause(true);
      try {
        await meanwhile();
      } finally {
        worker.jobWorker.worker.resume();
      }
    },
    async stop() {
      await env.bot.stop();
      await fake.stop();
      await queue.close();
      ledgerRedis.disconnect();
      await worker.stop(0);
      await redis.stop();
    },
  };
  return env;
}

/** The messages `user` posts and the bot's in `topic` of `channel`, as the test reads them. */
export function topicOf(fake: FakeZulip, channel: string, topic: string) {
  const fromBot = () =>
    fake.messagesIn(channel, topic).filter((message) => message.sender_id === botUser.user_id);
  return {
    say: (user: FakeZulipUser, text: string) => fake.say(user, text, { stream: channel, topic }),
    fromBot,
    /** The bot's messages once there are `count`. */
    replies: (count: number, timeoutMs = 10_000) =>
      eventually(async () => {
        const found = fromBot();
        return found.length >= count ? found : undefined;
      }, timeoutMs),
    /** The job result: the bot's message starting with ✅ or ❌. */
    result: (timeoutMs = 180_000) =>
      eventually(
        async () => fromBot().find((message) => /^[✅❌]/u.test(String(message.content))),
        timeoutMs,
      ),
  };
}

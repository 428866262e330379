/**
 * The Discord adapter connected to a fresh fake Discord, answering from a real knowledge base built from
 * two small fixture kernel trees, through the dispatcher with an in-memory ledger the test can read.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DiscordBot, type DiscordBotOptions, startDiscordBot } from '../../../bot/adapters/discord.ts';
import { MemoryChatLedger } from '../../../bot/chat-ledger.ts';
import { createDispatcher, type DispatcherOptions } from '../../../bot/dispatcher.ts';
import { createRouter, type RouterOptions } from '../../../bot/router.ts';
import { createLogger } from '../../../config/logger.ts';
import type { KnowledgeService } from '../../../knowledge/answer-types.ts';
import { loadKnowledgeBase } from '../../../knowledge/knowledge-base.ts';
import { createKnowledgeService } from '../../../knowledge/service.ts';
import { writeKernelTree } from '../kernel-fixture.ts';
import { FakeDiscord } from './index.ts';

export const log = createLogger({
  logLevel: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent',
  logFormat: 'json',
});
export const PREFIX = '!';

/** A knowledge service over fixture 6.1 and 6.6 trees (no FAQ, no LLM). */
export async function fixtureKnowledge(): Promise<KnowledgeService> {
  const work = mkdtempSync(join(tmpdir(), 'rfl-discord-'));
  const trees = [
    writeKernelTree(join(work, 'linux-6.1'), {
      version: '6.1.50',
      rustc: '1.62.0',
      bindgen: '0.56.0',
      configNote: 'On this series it sits in the first menu.',
    }),
    writeKernelTree(join(work, 'linux-6.6'), {
      version: '6.6.10',
      rustc: '1.73.0',
      bindgen: '0.65.1',
      configNote: 'On this series it moved below the allocator options.',
    }),
  ];
  const kb = await loadKnowledgeBase(
    { kernelTrees: trees, markdownTrees: [], faqDir: null, wholeDocumentation: false },
    { cacheDir: join(work, 'cache'), name: 'discord', log },
  );
  return createKnowledgeService(kb, { knowledge: { minConfidence: 0.15, maxSources: 3 }, llm: null, log });
}

export interface BotOnFake {
  fake: FakeDiscord;
  bot: DiscordBot;
  ledger: MemoryChatLedger;
  stop(): Promise<void>;
}

export async function startBotOnFake(
  knowledge: KnowledgeService,
  extra: {
    router?: Partial<RouterOptions>;
    dispatcher?: Partial<DispatcherOptions>;
    bot?: Partial<DiscordBotOptions>;
  } = {},
): Promise<BotOnFake> {
  const fake = await FakeDiscord.start();
  const router = createRouter({
    knowledge,
    chat: { commandPrefix: PREFIX, botName: 'rfl-onboard' },
    log,
    ...extra.router,
  });
  const ledger = new MemoryChatLedger();
  const dispatcher = createDispatcher({
    router,
    ledger,
    platform: 'discord',
    userMessagesPerMinute: 100,
    editWindowMs: 5 * 60_000,
    log,
    ...extra.dispatcher,
  });
  const bot = await startDiscordBot({
    token: fake.token,
    applicationId: fake.applicationId,
    guildIds: [fake.guildId],
    dispatcher,
    commandPrefix: PREFIX,
    log,
    restUrl: fake.restUrl,
    ...extra.bot,
  });
  return {
    fake,
    bot,
    ledger,
    async stop() {
      await bot.stop();
      await fake.close();
    },
  };
}

/** Resolves with what `check` finds (an async look into the ledger), polling every 10 ms. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`not found within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

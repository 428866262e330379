/**
 * The Discord adapter connected to a fresh fake Discord, answering from a real knowledge base built from
 * two small fixture kernel trees; what the adapter reports (feedback, edits, deletes) is collected.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DeletedMessage,
  type DiscordBot,
  type DiscordBotOptions,
  type DiscordFeedback,
  startDiscordBot,
} from '../../../bot/adapters/discord.ts';
import type { IncomingMessage } from '../../../bot/message.ts';
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
  feedback: DiscordFeedback[];
  edits: IncomingMessage[];
  deletes: DeletedMessage[];
  stop(): Promise<void>;
}

export async function startBotOnFake(
  knowledge: KnowledgeService,
  extra: { router?: Partial<RouterOptions>; bot?: Partial<DiscordBotOptions> } = {},
): Promise<BotOnFake> {
  const fake = await FakeDiscord.start();
  const router = createRouter({
    knowledge,
    chat: { commandPrefix: PREFIX, botName: 'rfl-onboard' },
    log,
    ...extra.router,
  });
  const feedback: DiscordFeedback[] = [];
  const edits: IncomingMessage[] = [];
  const deletes: DeletedMessage[] = [];
  const bot = await startDiscordBot({
    token: fake.token,
    applicationId: fake.applicationId,
    guildIds: [fake.guildId],
    router,
    commandPrefix: PREFIX,
    log,
    restUrl: fake.restUrl,
    onFeedback: (entry) => feedback.push(entry),
    onMessageEdited: (message) => edits.push(message),
    onMessageDeleted: (deleted) => deletes.push(deleted),
    ...extra.bot,
  });
  return {
    fake,
    bot,
    feedback,
    edits,
    deletes,
    async stop() {
      await bot.stop();
      await fake.close();
    },
  };
}

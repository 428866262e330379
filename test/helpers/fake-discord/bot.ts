/**
 * The Discord adapter connected to a fresh fake Discord, answering from a real knowledge base built from
 * two small fixture kernel trees, through the dispatcher with an in-memory ledger the test can read.
 */
import {
  type DiscordBot,
  type DiscordBotOptions,
  startDiscordBot,
} from '../../../bot/adapters/discord/bot.ts';
import type { ChatLedger } from '../../../bot/dispatch/chat-ledger.ts';
import type { DispatcherOptions } from '../../../bot/dispatch/dispatcher.ts';
import type { RouterOptions } from '../../../bot/dispatch/router.ts';
import type { KnowledgeService } from '../../../knowledge/answer-types.ts';
import { fixtureChat, fixtureKnowledge, log, PREFIX } from '../chat-fixture.ts';
import { FakeDiscord } from './index.ts';

export { log, PREFIX };

/** A knowledge service over fixture 6.1 and 6.6 trees (no FAQ, no LLM). */
export const discordKnowledge = () => fixtureKnowledge('discord', true);

export interface BotOnFake {
  fake: FakeDiscord;
  bot: DiscordBot;
  ledger: ChatLedger;
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
  const { ledger, dispatcher } = fixtureChat(knowledge, 'discord', extra);
  const bot = await startDiscordBot({
    token: fake.token,
    applicationId: fake.applicationId,
    guildIds: [fake.guildId],
    dispatcher,
    commandPrefix: PREFIX,
    log,
    apiBaseUrl: fake.apiBaseUrl,
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

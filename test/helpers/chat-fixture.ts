/**
 * The chat side of the adapter tests: a real knowledge base over small fixture kernel trees (6.1, and
 * 6.6 when asked), the router, and a dispatcher with generous limits on a ledger the test can read.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChatLedger, MemoryChatLedger } from '../../bot/dispatch/chat-ledger.ts';
import { createDispatcher, type DispatcherOptions } from '../../bot/dispatch/dispatcher.ts';
import { createRouter, type RouterOptions } from '../../bot/dispatch/router.ts';
import { createLogger } from '../../config/logger.ts';
import type { KnowledgeService } from '../../knowledge/answer-types.ts';
import { loadKnowledgeBase } from '../../knowledge/knowledge-base.ts';
import { createKnowledgeService } from '../../knowledge/service.ts';
import { writeKernelTree } from './kernel-fixture.ts';

export const log = createLogger({
  logLevel: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent',
  logFormat: 'json',
});
export const PREFIX = '!';

/** A knowledge service over a fixture 6.1 tree, and a 6.6 one with `withNewer` (no FAQ, no LLM). */
export async function fixtureKnowledge(name: string, withNewer = false): Promise<KnowledgeService> {
  const work = mkdtempSync(join(tmpdir(), `rfl-${name}-`));
  const trees = [
    writeKernelTree(join(work, 'linux-6.1'), {
      version: '6.1.50',
      rustc: '1.62.0',
      bindgen: '0.56.0',
      configNote: 'On this series it sits in the first menu.',
    }),
    ...(withNewer
      ? [
          writeKernelTree(join(work, 'linux-6.6'), {
            version: '6.6.10',
            rustc: '1.73.0',
            bindgen: '0.65.1',
            configNote: 'On this series it moved below the allocator options.',
          }),
        ]
      : []),
  ];
  const kb = await loadKnowledgeBase(
    { kernelTrees: trees, markdownTrees: [], faqDir: null, wholeDocumentation: false },
    { cacheDir: join(work, 'cache'), name, log },
  );
  return createKnowledgeService(kb, { knowledge: { minConfidence: 0.15, maxSources: 3 }, llm: null, log });
}

/** Router and dispatcher as the bot wires them, with limits no test reaches unless it sets them. */
export function fixtureChat(
  knowledge: KnowledgeService,
  platform: DispatcherOptions['platform'],
  extra: {
    router?: Partial<RouterOptions>;
    dispatcher?: Partial<DispatcherOptions>;
    ledger?: ChatLedger;
  } = {},
) {
  const router = createRouter({
    knowledge,
    chat: { commandPrefix: PREFIX, botName: 'rfl-onboard' },
    log,
    ...extra.router,
  });
  const ledger = extra.ledger ?? new MemoryChatLedger();
  const dispatcher = createDispatcher({
    router,
    ledger,
    platform,
    userMessagesPerMinute: 100,
    editWindowMs: 5 * 60_000,
    log,
    ...extra.dispatcher,
  });
  return { router, ledger, dispatcher };
}

/** The dispatcher a test terminal enters through, as main.ts composes it: in memory, no rate limit. */
import pino from 'pino';
import { MemoryChatLedger } from '../../bot/dispatch/chat-ledger.ts';
import { createDispatcher, type Dispatcher } from '../../bot/dispatch/dispatcher.ts';
import type { Router } from '../../bot/dispatch/router.ts';

export async function terminalDispatcher(
  router: Router | Promise<Router>,
  options: { ledger?: MemoryChatLedger; perMinute?: number; log?: pino.Logger } = {},
): Promise<Dispatcher> {
  return createDispatcher({
    router: await router,
    ledger: options.ledger ?? new MemoryChatLedger(),
    platform: 'terminal',
    userMessagesPerMinute: options.perMinute ?? Number.POSITIVE_INFINITY,
    editWindowMs: 60_000,
    log: options.log ?? pino({ level: 'silent' }),
  });
}

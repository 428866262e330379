/** The dispatcher a test terminal enters through, as main.ts composes it: in memory, no rate limit. */
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { runTerminalChat } from '../../bot/adapters/terminal/terminal.ts';
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

/** What the terminal chat prints for `input` piped in (not a TTY), once it has read all of it. */
export async function pipedChat(
  router: Router | Promise<Router>,
  input: string,
  log: pino.Logger,
  options: { ledger?: MemoryChatLedger; perMinute?: number } = {},
): Promise<string> {
  const stdin = new PassThrough();
  const output = new PassThrough();
  let printed = '';
  output.on('data', (chunk: Buffer) => {
    printed += chunk.toString();
  });
  const chat = runTerminalChat({
    dispatcher: terminalDispatcher(router, options),
    input: stdin,
    output,
    isTTY: false,
    log,
  });
  stdin.end(input);
  await chat.finished;
  return printed;
}

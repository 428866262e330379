/** What the terminal chat prints of a reply: user text and job output echoed back cannot drive the terminal. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { runTerminalChat } from '../../bot/adapters/terminal/terminal.ts';
import type { Router } from '../../bot/dispatch/router.ts';

const log = pino({ level: 'silent' });

test('escape sequences and control characters in a reply are not printed', async () => {
  // A build result quoting the module's own printk: it retitles the window, clears the screen, hides text.
  const hostile = 'hello\u001b]0;pwned\u0007 from\u001b[2J the \u202eevil\u202c module\r\u0008';
  const router = {
    handle: async () => ({
      lead: '✅ built',
      code: { language: 'text', text: hostile },
      details: [hostile],
      sources: [],
    }),
  } as unknown as Router;
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = '';
  output.on('data', (chunk: Buffer) => {
    printed += chunk.toString();
  });
  const chat = runTerminalChat({ router, input, output, isTTY: false, log });
  input.end('!build\n');
  await chat.finished;
  assert.equal(
    printed,
    '✅ built\n```text\nhello]0;pwned from[2J the evil module\n```\nhello]0;pwned from[2J the evil module\n',
  );
});

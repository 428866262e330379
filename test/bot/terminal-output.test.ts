/** What the terminal chat prints of a reply: user text and job output echoed back cannot drive the terminal. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { Router } from '../../bot/dispatch/router.ts';
import { pipedChat } from './terminal-dispatcher.ts';

const log = pino({ level: 'silent' });

test('escape sequences and control characters in a reply are not printed', async () => {
  // A build result quoting the module's own printk: it retitles the window, clears the screen, hides text.
  const hostile = 'hello\u001b]0;pwned\u0007 from\u001b[2J the \u202eevil\u202c module\r\u0008';
  const router = {
    isForBot: () => true,
    handle: async () => ({
      lead: '✅ built',
      code: { language: 'text', text: hostile },
      details: [hostile],
      sources: [],
    }),
  } as unknown as Router;
  const printed = await pipedChat(router, '!build\n', log);
  // Escape sequences go whole (config/printable.ts's stripControls, shared with the job output cleaner).
  const shown = printed.replace(/[\u202a-\u202e\u2066-\u2069]/g, '');
  assert.equal(shown, '✅ built\n```text\nhello from the evil module\n```\nhello from the evil module\n');
  assert.doesNotMatch(printed, /[\p{Cc}--[\n]]/v, 'no control character but newlines');
});

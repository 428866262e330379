/**
 * The terminal adapter's side of jobs: later replies and edits, a pasted code block kept with its
 * command, and a piped chat that ends only after every job's result is printed.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stripVTControlCharacters } from 'node:util';
import pino from 'pino';
import { runTerminalChat } from '../../bot/adapters/terminal/terminal.ts';
import { textMessage } from '../../bot/chat/rich-message.ts';
import { type Command, ok } from '../../bot/commands/command.ts';
import { createRouter } from '../../bot/dispatch/router.ts';
import type { KnowledgeService } from '../../knowledge/answer-types.ts';
import { terminalDispatcher } from './terminal-dispatcher.ts';

const log = pino({ level: 'silent' });
const knowledge: KnowledgeService = {
  ask: async (question) => ({
    kind: 'answer',
    lead: `asked: ${question}`,
    details: [],
    citations: [],
    kernelVersion: null,
    confidence: 1,
    passages: [],
    via: 'rule',
  }),
  faq: () => [],
  kernelVersions: () => [],
};

/** `!slow <text>`: a job-like command: a status message edited twice, then a result 60 ms later. */
const slowCommand: Command = {
  name: 'slow',
  usage: '<text>',
  summary: 'test',
  takesCode: true,
  async run({ args, replies }) {
    if (!replies) return ok(textMessage('no replies'));
    const ref = await replies.send(textMessage('[job abcde] queued'));
    replies.track(
      (async () => {
        await sleep(20);
        await replies.edit(ref, textMessage('[job abcde] building'));
        await replies.edit(ref, textMessage('[job abcde] building'));
        await sleep(40);
        await replies.edit(ref, textMessage('[job abcde] done'));
        await replies.send(textMessage(`result: ${args}`));
      })(),
    );
    return { ok: true, value: null };
  },
};

function start(isTTY: boolean) {
  const input = new PassThrough();
  const output = new PassThrough();
  let raw = '';
  output.on('data', (chunk: Buffer) => {
    raw += chunk.toString();
  });
  const router = createRouter({
    knowledge,
    chat: { commandPrefix: '!', botName: 'rfl-onboard' },
    log,
    commands: [slowCommand],
  });
  const chat = runTerminalChat({ dispatcher: terminalDispatcher(router), input, output, isTTY, log });
  return { input, chat, raw: () => raw };
}

test('piped: each distinct stage on its own line, the result after, and the end waits for it', async () => {
  const { input, chat, raw } = start(false);
  input.end('!slow one\n');
  await chat.finished;
  assert.equal(raw(), '[job abcde] queued\n[job abcde] building\n[job abcde] done\n\nresult: one\n');
});

test('piped: a fenced block on the lines after a command is part of it, up to its closing fence', async () => {
  const { input, chat, raw } = start(false);
  input.end('!slow\n```rust\nfn main() {}\n\n```\nwhat next?\n');
  await chat.finished;
  assert.match(raw(), /result: ```rust\nfn main\(\) \{\}\n\n```\n/);
  assert.match(raw(), /asked: what next\?/);
});

test('on a terminal: an edit rewrites the status line in place, and the result is a new reply', async () => {
  const { input, chat, raw } = start(true);
  input.write('!slow two\n');
  await sleep(150);
  input.end();
  await chat.finished;
  assert.ok(raw().includes('\u001b[1A'), 'the cursor went up to rewrite the line');
  const seen = stripVTControlCharacters(raw());
  assert.match(seen, /bot> \[job abcde\] done\n/);
  assert.match(seen, /bot> result: two\n/);
  assert.equal(seen.match(/building/g)?.length, 1, 'an unchanged edit prints nothing');
});

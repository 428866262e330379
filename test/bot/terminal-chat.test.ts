import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stripVTControlCharacters } from 'node:util';
import pino from 'pino';
import { runTerminalChat } from '../../bot/adapters/terminal/terminal.ts';
import { createRouter, type Router } from '../../bot/dispatch/router.ts';
import type { Answer, KnowledgeService } from '../../knowledge/answer-types.ts';
import { terminalDispatcher } from './terminal-dispatcher.ts';

/** Echoes each question; a question containing "slow" takes a while, to test reply order. */
const echoKnowledge: KnowledgeService = {
  async ask(question: string): Promise<Answer> {
    if (question.includes('slow')) await sleep(80);
    return {
      kind: 'answer',
      lead: `echo: ${question}`,
      details: [],
      citations: [],
      kernelVersion: null,
      confidence: 1,
      passages: [],
      via: 'rule',
    };
  },
  faq: () => [],
  kernelVersions: () => ['6.1.192'],
};

const log = pino({ level: 'silent' });
const makeRouter = () =>
  createRouter({ knowledge: echoKnowledge, chat: { commandPrefix: '!', botName: 'rfl-onboard' }, log });

function start(isTTY: boolean, router: Router | Promise<Router> = makeRouter()) {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = '';
  output.on('data', (chunk: Buffer) => {
    printed += chunk.toString();
  });
  const chat = runTerminalChat({ dispatcher: terminalDispatcher(router), input, output, isTTY, log });
  // What a person sees, near enough: cursor movements and line clears dropped.
  return { input, chat, printed: () => (isTTY ? stripVTControlCharacters(printed) : printed) };
}

describe('piped', () => {
  test('prints each reply in order, joins backslash-continued lines, and ends at EOF', async () => {
    const { input, chat, printed } = start(false);
    input.end('a slow question\nsecond\\\n  continued\n\n!nope\n');
    await chat.finished;
    assert.equal(
      printed(),
      'echo: a slow question\n\necho: second\n  continued\n\nI don’t know the command !nope.\n!help lists what I can do.\n',
    );
  });

  test('a message still continued at the end of input is answered', async () => {
    const { input, chat, printed } = start(false);
    input.end('first line\\\nlast line\\');
    await chat.finished;
    assert.equal(printed(), 'echo: first line\nlast line\n');
  });

  test('no prompt, reply lead or status text reaches the output', async () => {
    const { input, chat, printed } = start(false);
    chat.status('building the knowledge index (first run)…');
    input.end('hello\n');
    await chat.finished;
    assert.equal(printed(), 'echo: hello\n');
  });

  test('a knowledge base that failed to load gets a friendly message for each question', async () => {
    const broken = Promise.reject(new Error('ENOENT: index.json'));
    const { input, chat, printed } = start(false, broken);
    input.end('one\ntwo\n');
    await chat.finished;
    const replies = printed().split('\n\n');
    assert.equal(replies.length, 2);
    for (const reply of replies) assert.match(reply, /my knowledge base failed to load/);
    assert.doesNotMatch(printed(), /ENOENT/);
  });

  test('a knowledge base that failed to load, with nothing asked, ends quietly', async () => {
    const { input, chat, printed } = start(false, Promise.reject(new Error('ENOENT: index.json')));
    input.end();
    await chat.finished;
    await sleep(10);
    assert.equal(printed(), '');
  });
});

describe('on a terminal', () => {
  test('prompts with "you> ", replies with "bot> ", and /quit leaves after the reply', async () => {
    const { input, chat, printed } = start(true);
    assert.match(printed(), /you> $/);
    input.write('a slow question\n/quit\n');
    await chat.finished;
    assert.match(printed(), /bot> echo: a slow question\n/);
    assert.doesNotMatch(printed().slice(printed().indexOf('bot> ')), /you> /);
  });

  test('Ctrl-D leaves', async () => {
    const { input, chat } = start(true);
    input.write('\u0004');
    await chat.finished;
  });

  test('shows a status while the knowledge base loads, then answers what was typed meanwhile', async () => {
    const { promise: router, resolve } = Promise.withResolvers<Router>();
    const { input, chat, printed } = start(true, router);
    chat.status('building the knowledge index (first run)…');
    assert.match(printed(), /building the knowledge index \(first run\)…$/);
    input.write('which rustc?\n');
    await sleep(20);
    assert.doesNotMatch(printed(), /bot> /);
    resolve(makeRouter());
    chat.status(null);
    input.end();
    await chat.finished;
    assert.match(printed(), /bot> echo: which rustc\?\n/);
  });
});

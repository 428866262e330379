/**
 * The shared chat behaviour on a real Redis ledger: an event is answered once even by a restarted or a
 * second bot, floods get one friendly note, an edit re-runs the message and edits the earlier reply in
 * place (only within the window), a delete removes the replies, and 👍/👎 land on the answer.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import pino from 'pino';
import type { MessageRef } from '../../bot/chat/capabilities.ts';
import type { IncomingMessage } from '../../bot/chat/message.ts';
import { type RichMessage, textMessage } from '../../bot/chat/rich-message.ts';
import { ok } from '../../bot/commands/command.ts';
import { type ChatLedger, MemoryChatLedger, RedisChatLedger } from '../../bot/dispatch/chat-ledger.ts';
import {
  createDispatcher,
  type DispatcherOptions,
  type DispatchSurface,
} from '../../bot/dispatch/dispatcher.ts';
import { createRouter } from '../../bot/dispatch/router.ts';
import type { KnowledgeService } from '../../knowledge/answer-types.ts';
import { log, privateRedis } from '../helpers/jobs.ts';

let redis: Awaited<ReturnType<typeof privateRedis>>;
let client: Redis;
let prefixes = 0;

before(async () => {
  redis = await privateRedis();
  client = new Redis(redis.url);
});
after(async () => {
  client.disconnect();
  await redis.stop();
});

/** A chat platform as the dispatcher sees it, keeping the messages the bot has up. */
class FakeRoom {
  readonly messages = new Map<string, string>();
  readonly removed: string[] = [];
  #next = 0;

  surface(withRemover = true): DispatchSurface {
    const render = (content: RichMessage) => [content.lead, ...content.details].join('\n');
    return {
      platform: 'matrix',
      sender: {
        send: async (to, content) => {
          const messageId = `$bot${++this.#next}`;
          this.messages.set(messageId, render(content));
          return { conversation: to, messageId };
        },
        edit: async (ref: MessageRef, content) => void this.messages.set(ref.messageId, render(content)),
      },
      track: () => {},
      ...(withRemover
        ? {
            remover: {
              remove: async (ref: MessageRef) => {
                this.messages.delete(ref.messageId);
                this.removed.push(ref.messageId);
              },
            },
          }
        : {}),
    };
  }
}

const knowledge: KnowledgeService = {
  ask: async () => {
    throw new Error('not used');
  },
  faq: () => [],
  kernelVersions: () => ['6.1.192'],
};

/** A router whose one command repeats its words, with its sources as a link per word. */
const router = createRouter({
  knowledge,
  chat: { commandPrefix: '!', botName: 'rfl-onboard' },
  log,
  commands: [
    {
      name: 'echo',
      usage: '<words>',
      summary: 'repeat',
      run: async ({ args }) => ok({ ...textMessage(`echo: ${args}`), sources: [] }),
    },
  ],
});

/** The dispatcher on `ledger` for the Matrix platform, with generous limits unless `overrides` say otherwise. */
function dispatcherOn(
  ledger: ChatLedger,
  overrides: Partial<Omit<DispatcherOptions, 'router' | 'ledger' | 'platform'>> = {},
) {
  return createDispatcher({
    router,
    ledger,
    platform: 'matrix',
    userMessagesPerMinute: 100,
    editWindowMs: 60_000,
    log,
    ...overrides,
  });
}

const freshPrefix = () => `rfltest:chat:${process.pid}:${++prefixes}`;
const freshLedger = () => new RedisChatLedger(client, freshPrefix());

function said(id: string, text: string, author = '@alice:localhost'): IncomingMessage {
  return {
    id,
    conversation: { roomId: '!room:localhost', threadId: id },
    author: { id: author, name: author },
    text,
    isDirect: false,
    mentionsBot: false,
    attachments: [],
  };
}

test('an event is answered once: a restarted bot or a second instance on the same Redis skips it', async () => {
  const prefix = freshPrefix();
  const room = new FakeRoom();
  const message = said('$q1', '!echo hello');
  assert.equal(
    await dispatcherOn(new RedisChatLedger(client, prefix)).message(message, room.surface()),
    true,
  );
  const restarted = dispatcherOn(new RedisChatLedger(client, prefix));
  assert.equal(await restarted.message(message, room.surface()), false, 'after a restart');
  const otherConnection = new Redis(redis.url);
  const secondInstance = dispatcherOn(new RedisChatLedger(otherConnection, prefix));
  const both = await Promise.all([
    secondInstance.message(said('$q2', '!echo twice?'), room.surface()),
    restarted.message(said('$q2', '!echo twice?'), room.surface()),
  ]);
  otherConnection.disconnect();
  assert.deepEqual(both.sort(), [false, true], 'two instances racing for one event: one answers');
  assert.deepEqual([...room.messages.values()], ['echo: hello', 'echo: twice?']);
});

test('chatter is neither answered nor counted; a flood gets one note, then silence', async () => {
  const room = new FakeRoom();
  const dispatcher = dispatcherOn(freshLedger(), { userMessagesPerMinute: 3 });
  assert.equal(await dispatcher.message(said('$c1', 'just chatting'), room.surface()), false);
  const answered = [];
  for (let i = 0; i < 6; i++)
    answered.push(await dispatcher.message(said(`$f${i}`, `!echo ${i}`), room.surface()));
  assert.deepEqual(answered, [true, true, true, false, false, false]);
  const texts = [...room.messages.values()];
  assert.equal(texts.length, 4, 'three answers and one note');
  assert.match(texts[3]!, /faster than I can answer/);
  // Another user is not slowed down by the first one's flood.
  assert.equal(await dispatcher.message(said('$b1', '!echo hi', '@bob:localhost'), room.surface()), true);
});

test('a burst of twice the limit around the turn of a minute is limited too, in Redis and in memory', async (t) => {
  for (const ledger of [freshLedger(), new MemoryChatLedger()]) {
    const room = new FakeRoom();
    const dispatcher = dispatcherOn(ledger, { userMessagesPerMinute: 3 });
    t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 11, 3, 16, 59, 59, 500) });
    const send = (i: number) => dispatcher.message(said(`$burst${i}`, `!echo ${i}`), room.surface());
    const answered = [];
    for (let i = 0; i < 3; i++) answered.push(await send(i));
    t.mock.timers.tick(1000); // 17:00:00.5, a new minute on the clock
    for (let i = 3; i < 6; i++) answered.push(await send(i));
    assert.deepEqual(answered, [true, true, true, false, false, false]);
    assert.equal(
      [...room.messages.values()].filter((text) => /faster than I can answer/.test(text)).length,
      1,
    );
    t.mock.timers.tick(59_000); // a minute after the first three
    assert.equal(await send(6), true);
    t.mock.timers.reset();
  }
});

test('an edit re-runs the message and edits the earlier reply in place', async () => {
  const room = new FakeRoom();
  const dispatcher = dispatcherOn(freshLedger());
  await dispatcher.message(said('$e1', '!echo first'), room.surface());
  const [replyId] = [...room.messages.keys()];
  await dispatcher.edited(said('$e1', '!echo second'), room.surface(), '$edit1');
  assert.deepEqual([...room.messages.entries()], [[replyId, 'echo: second']]);
  // The same edit event delivered again changes nothing.
  await dispatcher.edited(said('$e1', '!echo third'), room.surface(), '$edit1');
  assert.equal(room.messages.get(replyId!), 'echo: second');
});

test('an edit that turns chatter into a command is answered like a new message', async () => {
  const room = new FakeRoom();
  const dispatcher = dispatcherOn(freshLedger());
  assert.equal(await dispatcher.message(said('$t1', 'echo typo'), room.surface()), false);
  await dispatcher.edited(said('$t1', '!echo fixed'), room.surface(), '$edit-t1');
  assert.deepEqual([...room.messages.values()], ['echo: fixed']);
});

test('edits after the window are not re-run', async () => {
  const room = new FakeRoom();
  const dispatcher = dispatcherOn(freshLedger(), { editWindowMs: 50 });
  await dispatcher.message(said('$w1', '!echo early'), room.surface());
  await new Promise((resolve) => setTimeout(resolve, 80));
  await dispatcher.edited(said('$w1', '!echo late'), room.surface(), '$edit-w1');
  assert.deepEqual([...room.messages.values()], ['echo: early']);
});

test('deleting a message removes the replies, or blanks them where the platform cannot delete', async () => {
  const room = new FakeRoom();
  const dispatcher = dispatcherOn(freshLedger());
  await dispatcher.message(said('$d1', '!echo gone soon'), room.surface());
  const [replyId] = [...room.messages.keys()];
  await dispatcher.deleted('$d1', room.surface());
  assert.deepEqual(room.removed, [replyId]);
  assert.equal(room.messages.size, 0);

  await dispatcher.message(said('$d2', '!echo kept'), room.surface(false));
  await dispatcher.deleted('$d2', room.surface(false));
  assert.match([...room.messages.values()][0]!, /was deleted/);
});

test('👍/👎 are recorded on the answer, once per user, and a change of mind replaces the rating', async () => {
  const ledger = freshLedger();
  const room = new FakeRoom();
  const dispatcher = dispatcherOn(ledger);
  await dispatcher.message(said('$r1', '!echo rate me'), room.surface());
  const [replyId] = [...room.messages.keys()];
  assert.equal(await dispatcher.feedback(replyId!, '@bob:localhost', 'up'), true);
  assert.equal(await dispatcher.feedback(replyId!, '@bob:localhost', 'up'), false, 'the same rating again');
  assert.equal(await dispatcher.feedback(replyId!, '@carol:localhost', 'down'), true);
  assert.equal(await dispatcher.feedback(replyId!, '@bob:localhost', 'down'), true);
  assert.deepEqual(await ledger.ratings(`matrix:${replyId}`), {
    '@bob:localhost': 'down',
    '@carol:localhost': 'down',
  });
  assert.equal((await ledger.answer(`matrix:${replyId}`))?.question, '!echo rate me');
  assert.equal(await dispatcher.feedback('$not-ours', '@bob:localhost', 'up'), false, 'not an answer');
});

test('other reactions on the bot’s messages go to the reaction hook (✅ approving a digest), not to feedback', async () => {
  const ledger = freshLedger();
  const room = new FakeRoom();
  const seen: [string, string, string][] = [];
  const dispatcher = dispatcherOn(ledger, {
    onReaction: async (messageId, userId, emoji) => void seen.push([messageId, userId, emoji]),
  });
  await dispatcher.message(said('$x1', '!echo digest'), room.surface());
  const [replyId] = [...room.messages.keys()];
  await dispatcher.reacted(replyId!, '@admin:localhost', '✅');
  await dispatcher.reacted(replyId!, '@bob:localhost', '👍🏽');
  assert.deepEqual(seen, [[replyId, '@admin:localhost', '✅']]);
  assert.deepEqual(
    await ledger.ratings(`matrix:${replyId}`),
    { '@bob:localhost': 'up' },
    'a skin tone is still 👍',
  );
});

test('a flood is logged once per burst, at info: not once per skipped message', async () => {
  const lines: { level: number; msg: string }[] = [];
  const stream = { write: (line: string) => void lines.push(JSON.parse(line)) };
  const room = new FakeRoom();
  const dispatcher = dispatcherOn(freshLedger(), {
    userMessagesPerMinute: 2,
    log: pino({ level: 'debug' }, stream),
  });
  for (let i = 0; i < 8; i++) await dispatcher.message(said(`$l${i}`, `!echo ${i}`), room.surface());
  const limited = lines.filter((line) => /rate limited/.test(line.msg));
  assert.equal(limited.length, 1, JSON.stringify(limited));
  assert.equal(limited[0]!.level, 30, 'info');
});

test('jobs owed from before a restart are resumed on the platform’s reply channel: result sent once, settled, kept with the message’s replies', async () => {
  const ledger = freshLedger();
  const room = new FakeRoom();
  const sends: { replyTo?: string; idempotencyKey?: string }[] = [];
  const surface = room.surface();
  const send = surface.sender.send.bind(surface.sender);
  surface.sender.send = async (to, content, options) => {
    sends.push({ ...options });
    return send(to, content, options);
  };
  const progress = await surface.sender.send({ roomId: '!room:localhost' }, textMessage('[job j1] building'));
  await ledger.saveReplies('matrix:$asked', { refs: [progress], answeredAt: Date.now() });
  sends.length = 0;
  await ledger.owe('matrix', {
    jobId: 'j1',
    kind: 'sample',
    origin: {
      userId: '@alice:localhost',
      platform: 'matrix',
      room: '!room:localhost',
      conversation: 'c',
      isDirect: false,
    },
    conversation: { roomId: '!room:localhost' },
    replyTo: '$asked',
    progress,
    prefix: '!',
    submittedAt: Date.now(),
  });
  const result = {
    jobId: 'j1',
    outcome: 'success' as const,
    environment: null,
    summary: '✅ built',
    body: '',
    warnings: 0,
    errors: 0,
    fullLog: '',
    durationMs: 1000,
  };
  const dispatcher = dispatcherOn(ledger, {
    jobs: {
      follow: async (_jobId, _origin, watcher) => {
        setTimeout(() => watcher.result(result), 5);
        return 'following';
      },
    },
  });
  const tracked: Promise<unknown>[] = [];
  assert.equal(await dispatcher.resume({ ...surface, track: (work) => void tracked.push(work) }), 1);
  await Promise.all(tracked);
  assert.equal(room.messages.get(progress.messageId), '[job j1] done in 1.0 s');
  assert.deepEqual(sends, [{ replyTo: '$asked', idempotencyKey: '$asked/job-j1-result' }]);
  assert.deepEqual(await ledger.owed('matrix'), []);
  assert.equal((await ledger.replies('matrix:$asked'))?.refs.length, 2, 'the progress and the result');
});

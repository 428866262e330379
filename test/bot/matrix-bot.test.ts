/**
 * The bot in Matrix as a newcomer meets it: a real Synapse on loopback, the bot logged in with a
 * password, and a second matrix-js-sdk client asking questions in rooms, threads and a DM.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EventType, Preset, RelationType } from 'matrix-js-sdk';
import { type MatrixBot, startMatrixBot } from '../../bot/adapters/matrix/bot.ts';
import { SESSION_FILE } from '../../bot/adapters/matrix/session.ts';
import { fixtureChat, fixtureKnowledge, log } from '../helpers/chat-fixture.ts';
import {
  Newcomer,
  type RegisteredUser,
  type SeenEvent,
  type Synapse,
  startSynapse,
  unrefSdkRequestTimers,
} from '../helpers/synapse.ts';

unrefSdkRequestTimers();

const knowledge = await fixtureKnowledge('matrix');
/** Kept across the bot's restarts, as Redis keeps it (bot/dispatcher.test.ts runs it on Redis). */
const { ledger, dispatcher } = fixtureChat(knowledge, 'matrix');
const work = mkdtempSync(join(tmpdir(), 'rfl-matrix-'));
const stateDir = join(work, 'state');

let synapse: Synapse;
let botUser: RegisteredUser;
let bot: MatrixBot;
let alice: Newcomer;
let room: string;

const startBot = async () => {
  const started = await startMatrixBot({
    homeserverUrl: synapse.baseUrl,
    userId: botUser.userId,
    password: botUser.password,
    stateDir,
    allowlist: ['@alice:localhost'],
    dispatcher,
    catchUpMs: 60_000,
    log,
  });
  assert.ok(started.ok, 'the bot starts');
  return started.value;
};

before(async () => {
  synapse = await startSynapse();
  botUser = await synapse.register('rfl-onboard');
  alice = await Newcomer.start(synapse, await synapse.register('alice'));
  bot = await startBot();
  room = (
    await alice.client.createRoom({ name: 'rust-help', preset: Preset.PublicChat, invite: [bot.userId] })
  ).room_id;
  // Three people: a room, not a DM.
  const bob = await synapse.register('bob');
  await fetch(`${synapse.baseUrl}/_matrix/client/v3/join/${encodeURIComponent(room)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bob.accessToken}`, 'content-type': 'application/json' },
    body: '{}',
  });
  await alice.waitFor((e) => isMembership(e, room, bot.userId, 'join'), 20_000, 'the bot to join');
  await alice.waitFor((e) => isMembership(e, room, bob.userId, 'join'), 20_000, 'bob to join');
});

after(async () => {
  alice?.stop();
  await bot?.stop();
  await synapse?.stop();
});

const isMembership = (event: SeenEvent, roomId: string, userId: string, membership: string) =>
  event.roomId === roomId &&
  event.type === 'm.room.member' &&
  event.stateKey === userId &&
  event.content.membership === membership;

const relation = (event: SeenEvent) =>
  event.content['m.relates_to'] as {
    rel_type?: string;
    event_id?: string;
    'm.in_reply_to'?: { event_id: string };
  };

/** The bot's reply to a message: the bot's message quoting it (in a thread or in a DM). */
function replyTo(who: Newcomer, questionId: string, timeoutMs = 20_000) {
  return who.waitFor(
    (e) =>
      e.sender === bot.userId &&
      e.type === 'm.room.message' &&
      relation(e)?.['m.in_reply_to']?.event_id === questionId,
    timeoutMs,
    `the reply to ${questionId}`,
  );
}

const noReplyWithin = async (who: Newcomer, questionId: string, ms: number) =>
  assert.rejects(replyTo(who, questionId, ms), /timed out/, 'the bot must not answer this');

test('a question mentioning the bot is answered in a thread, with HTML and plain text', async () => {
  const question = await alice.say(room, {
    msgtype: 'm.text',
    body: 'rfl-onboard: which rustc does 6.1 need?',
  });
  const reply = await replyTo(alice, question);
  assert.deepEqual(
    { rel: relation(reply)?.rel_type, root: relation(reply)?.event_id },
    { rel: 'm.thread', root: question },
  );
  assert.equal(reply.content.msgtype, 'm.notice');
  assert.match(String(reply.content.body), /1\.62\.0/);
  assert.match(String(reply.content.body), /Sources: \[1\]/);
  assert.equal(reply.content.format, 'org.matrix.custom.html');
  assert.match(String(reply.content.formatted_body), /<a href="https:\/\/[^"]+v6\.1\.50[^"]*">/);
  assert.deepEqual(reply.content['m.mentions'], { user_ids: [alice.userId] }, 'only the asker is addressed');
});

test('!help answers with the commands, and chatter in the room is left alone', async () => {
  const chatter = await alice.say(room, { msgtype: 'm.text', body: 'does anyone know a good editor?' });
  const help = await alice.say(room, { msgtype: 'm.text', body: '!help' });
  const reply = await replyTo(alice, help);
  assert.match(String(reply.content.body), /!ask/);
  assert.match(String(reply.content.formatted_body), /<code>|<p>/);
  await noReplyWithin(alice, chatter, 1_000);
});

test('a follow-up in the thread is answered in the same thread', async () => {
  const question = await alice.say(room, {
    msgtype: 'm.text',
    body: 'rfl-onboard: how do I set up rust-analyzer?',
  });
  await replyTo(alice, question);
  const followUp = await alice.say(room, {
    msgtype: 'm.text',
    body: 'and where do I turn on CONFIG_RUST?',
    'm.relates_to': {
      rel_type: 'm.thread',
      event_id: question,
      is_falling_back: true,
      'm.in_reply_to': { event_id: question },
    },
  });
  const reply = await replyTo(alice, followUp);
  assert.equal(relation(reply)?.rel_type, 'm.thread');
  assert.equal(relation(reply)?.event_id, question, 'the answer stays in the thread of the first question');
  assert.match(String(reply.content.body), /General setup/);
});

test('a DM is answered without a mention, and not in a thread', async () => {
  const dm = (
    await alice.client.createRoom({
      preset: Preset.TrustedPrivateChat,
      invite: [bot.userId],
      is_direct: true,
    })
  ).room_id;
  await alice.waitFor((e) => isMembership(e, dm, bot.userId, 'join'), 20_000, 'the bot to join the DM');
  const question = await alice.say(dm, { msgtype: 'm.text', body: 'which bindgen does 6.1 need?' });
  const reply = await replyTo(alice, question);
  assert.equal(relation(reply)?.rel_type, undefined);
  assert.match(String(reply.content.body), /0\.56\.0/);
});

test('invites are accepted from the allowlist only', async () => {
  const mallory = await Newcomer.start(synapse, await synapse.register('mallory'));
  try {
    const theirs = (await mallory.client.createRoom({ invite: [bot.userId] })).room_id;
    await mallory.waitFor((e) => isMembership(e, theirs, bot.userId, 'leave'), 20_000, 'the invite declined');
    assert.ok(!mallory.seen.some((e) => isMembership(e, theirs, bot.userId, 'join')));
  } finally {
    mallory.stop();
  }
});

async function sendFile(roomId: string, name: string, bytes: Uint8Array, mimetype: string, caption: string) {
  const upload = await alice.client.uploadContent(Buffer.from(bytes), { name, type: mimetype });
  return alice.say(roomId, {
    msgtype: 'm.file',
    body: caption,
    filename: name,
    url: upload.content_uri,
    info: { size: bytes.byteLength, mimetype },
  });
}

test('a .config attachment is fetched; a binary one is refused politely', async () => {
  const config = new TextEncoder().encode('CONFIG_RUST=y\nCONFIG_MODVERSIONS=n\n');
  const fetched = await sendFile(room, 'my.config', config, 'text/plain', '!check-config');
  // Fetched, then handed to the job queue, which this bot runs without.
  assert.match(String((await replyTo(alice, fetched)).content.body), /job queue is not available/);

  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  const refused = await sendFile(room, 'screenshot.config', png, 'image/png', '!check-config');
  assert.match(String((await replyTo(alice, refused)).content.body), /not a text file/);
});

test('after a restart the bot reuses its session, answers what was asked while it was away, and nothing twice', async () => {
  const before = bot.deviceId;
  const answeredBefore = await alice.say(room, { msgtype: 'm.text', body: '!help' });
  await replyTo(alice, answeredBefore);
  await bot.stop();
  const missed = await alice.say(room, {
    msgtype: 'm.text',
    body: 'rfl-onboard: which bindgen does 6.1 need?',
  });
  const chatter = await alice.say(room, { msgtype: 'm.text', body: 'brb, coffee' });
  bot = await startBot();
  assert.equal(bot.deviceId, before, 'the stored token is reused: same device');
  assert.equal(JSON.parse(readFileSync(join(stateDir, SESSION_FILE), 'utf8')).deviceId, before);
  assert.match(String((await replyTo(alice, missed)).content.body), /0\.56\.0/);
  const fresh = await alice.say(room, { msgtype: 'm.text', body: 'rfl-onboard: which rustc does 6.1 need?' });
  await replyTo(alice, fresh);
  await noReplyWithin(alice, chatter, 300);
  const repliesTo = (id: string) =>
    alice.seen.filter(
      (e) =>
        e.sender === bot.userId &&
        relation(e)?.['m.in_reply_to']?.event_id === id &&
        relation(e)?.rel_type !== 'm.replace',
    ).length;
  assert.deepEqual([answeredBefore, missed, fresh].map(repliesTo), [1, 1, 1], 'each answered exactly once');
  const fromBot = alice.seen.filter((e) => e.sender === bot.userId && e.type === 'm.room.message');
  assert.ok(
    fromBot.every((e) => relation(e)?.['m.in_reply_to']?.event_id !== e.id),
    'the bot never answers itself',
  );
});

test('a homeserver restart: a reply sent while it is down arrives, and the bot answers afterwards', async () => {
  const question = await alice.say(room, {
    msgtype: 'm.text',
    body: 'rfl-onboard: which rustc does 6.1 need?',
  });
  await replyTo(alice, question);
  await synapse.pause();
  const sending = bot.surface.send(
    { roomId: room, threadId: question },
    { lead: 'still here', details: [], sources: [] },
  );
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await synapse.resume();
  const sent = await sending;
  await alice.waitFor((e) => e.id === sent.messageId, 30_000, 'the reply sent during the outage');
  const after = await alice.say(room, { msgtype: 'm.text', body: '!help' });
  await replyTo(alice, after, 30_000);
});

test('M_LIMIT_EXCEEDED is waited out: every question is still answered', async () => {
  await synapse.limitMessages(bot.userId, 1, 1);
  try {
    const started = Date.now();
    const questions = [];
    for (const n of [1, 2, 3])
      questions.push(await alice.say(room, { msgtype: 'm.text', body: `!help ${n}` }));
    for (const question of questions) await replyTo(alice, question, 30_000);
    assert.ok(Date.now() - started >= 1_500, 'the homeserver held the bot back');
  } finally {
    await synapse.limitMessages(bot.userId, 0, 0);
  }
});

test('the bot edits its message with m.replace and reacts with m.annotation', async () => {
  const question = await alice.say(room, { msgtype: 'm.text', body: '!help' });
  const reply = await replyTo(alice, question);
  const ref = { conversation: { roomId: room, threadId: question }, messageId: reply.id };
  await bot.surface.edit(ref, { lead: 'Build finished: `hello.ko` is ready.', details: [], sources: [] });
  const edit = await alice.waitFor(
    (e) => relation(e)?.rel_type === 'm.replace' && relation(e)?.event_id === reply.id,
  );
  const newContent = edit.content['m.new_content'] as Record<string, unknown>;
  assert.equal(newContent.body, 'Build finished: `hello.ko` is ready.');
  assert.equal(newContent.formatted_body, '<p>Build finished: <code>hello.ko</code> is ready.</p>');
  await bot.surface.react({ conversation: { roomId: room }, messageId: question }, '👍');
  const reaction = await alice.waitFor((e) => e.type === 'm.reaction' && relation(e)?.event_id === question);
  assert.deepEqual(relation(reaction), { rel_type: 'm.annotation', event_id: question, key: '👍' });
});

/** The bot's latest text for one of its messages, edits (m.replace) included. */
function latestText(who: Newcomer, messageId: string): string {
  const edits = who.seen.filter(
    (e) => relation(e)?.rel_type === 'm.replace' && relation(e)?.event_id === messageId,
  );
  const last = edits.at(-1);
  const content = last
    ? (last.content['m.new_content'] as Record<string, unknown>)
    : who.seen.find((e) => e.id === messageId)?.content;
  return String(content?.body ?? '');
}

test('editing a question re-runs it and edits the answer; redacting it redacts the answer', async () => {
  const question = await alice.say(room, { msgtype: 'm.text', body: '!ask which rustc does 6.1 need?' });
  const reply = await replyTo(alice, question);
  assert.match(String(reply.content.body), /1\.62\.0/);
  await alice.say(room, {
    msgtype: 'm.text',
    body: '* !ask which bindgen does 6.1 need?',
    'm.new_content': { msgtype: 'm.text', body: '!ask which bindgen does 6.1 need?' },
    'm.relates_to': { rel_type: 'm.replace', event_id: question },
  });
  await alice.waitFor(
    (e) =>
      e.sender === bot.userId && relation(e)?.rel_type === 'm.replace' && relation(e)?.event_id === reply.id,
    20_000,
    'the answer edited',
  );
  assert.match(latestText(alice, reply.id), /0\.56\.0/);
  const answers = alice.seen.filter(
    (e) => e.sender === bot.userId && relation(e)?.['m.in_reply_to']?.event_id === question,
  );
  assert.equal(answers.length, 1, 'edited in place, not answered again');

  await alice.client.redactEvent(room, question);
  await alice.waitFor(
    (e) => e.type === 'm.room.redaction' && e.sender === bot.userId && e.content.redacts === reply.id,
    20_000,
    'the answer redacted',
  );
});

test('an edit by someone else than the author is ignored', async () => {
  const question = await alice.say(room, { msgtype: 'm.text', body: '!ask which rustc does 6.1 need?' });
  const reply = await replyTo(alice, question);
  const mallory = await Newcomer.start(synapse, await synapse.register('mallory2'));
  try {
    await mallory.client.joinRoom(room);
    await mallory.say(room, {
      msgtype: 'm.text',
      body: '* !help',
      'm.new_content': { msgtype: 'm.text', body: '!help' },
      'm.relates_to': { rel_type: 'm.replace', event_id: question },
    });
    // A later message of Alice's is answered: by then the forged edit had its chance.
    await replyTo(alice, await alice.say(room, { msgtype: 'm.text', body: '!help' }));
    assert.match(latestText(alice, reply.id), /1\.62\.0/);
  } finally {
    mallory.stop();
  }
});

test('a redaction of Alice’s question by Mallory leaves the answer; a moderator’s or Alice’s own removes it', async () => {
  const question = await alice.say(room, { msgtype: 'm.text', body: '!ask which rustc does 6.1 need?' });
  const reply = await replyTo(alice, question);
  const malloryUser = await synapse.register('mallory3');
  const mallory = await Newcomer.start(synapse, malloryUser);
  const answerRedacted = (answerId: string) => (e: SeenEvent) =>
    e.type === 'm.room.redaction' && e.sender === bot.userId && e.content.redacts === answerId;
  try {
    await mallory.client.joinRoom(room);
    // Synapse refuses Mallory a plain redaction of Alice's message (a server of hers would not): she redacts
    // her own, pointing it at Alice's question with a relation, as matrix-js-sdk's getAssociatedId() reads.
    const own = await mallory.say(room, { msgtype: 'm.text', body: 'oops' });
    const forged = await fetch(
      `${synapse.baseUrl}/_matrix/client/v3/rooms/${encodeURIComponent(room)}/redact/${encodeURIComponent(own)}/forged-1`,
      {
        method: 'PUT',
        headers: { authorization: `Bearer ${malloryUser.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ 'm.relates_to': { rel_type: 'm.reference', event_id: question } }),
      },
    );
    assert.equal(forged.status, 200, await forged.text());
    // The bot answers in order: by the time it answers this, it has handled the redaction.
    await replyTo(alice, await alice.say(room, { msgtype: 'm.text', body: '!help' }));
    assert.ok(!alice.seen.some(answerRedacted(reply.id)), 'the answer to Alice stays');

    // Alice created the room (room version 12: its creator outranks everyone): she may redact others'.
    const malloryQuestion = await mallory.say(room, {
      msgtype: 'm.text',
      body: '!ask which bindgen does 6.1 need?',
    });
    const malloryReply = await replyTo(alice, malloryQuestion);
    await alice.client.redactEvent(room, malloryQuestion);
    await alice.waitFor(answerRedacted(malloryReply.id), 20_000, 'the answer to Mallory redacted');

    await alice.client.redactEvent(room, question);
    await alice.waitFor(answerRedacted(reply.id), 20_000, 'the answer to Alice redacted');
  } finally {
    mallory.stop();
  }
});

test('👍 on an answer is recorded as feedback on that answer', async () => {
  const question = await alice.say(room, { msgtype: 'm.text', body: '!ask which rustc does 6.1 need?' });
  const reply = await replyTo(alice, question);
  await alice.client.sendEvent(room, null, EventType.Reaction, {
    'm.relates_to': { rel_type: RelationType.Annotation, event_id: reply.id, key: '👍' },
  });
  const deadline = Date.now() + 20_000;
  while (Object.keys(await ledger.ratings(`matrix:${reply.id}`)).length === 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(await ledger.ratings(`matrix:${reply.id}`), { [alice.userId]: 'up' });
  assert.equal((await ledger.answer(`matrix:${reply.id}`))?.question, '!ask which rustc does 6.1 need?');
});

test('a send with an idempotency key is not repeated by a restarted bot on a new login', async () => {
  const key = `digest-step-${Date.now()}`;
  const content = { lead: 'Most asked about:', details: ['• Quick Start'], sources: [] };
  const first = await bot.surface.send({ roomId: room }, content, { idempotencyKey: key });
  // A new access token: transaction ids no longer dedupe; only the key in the event can.
  await bot.stop();
  rmSync(join(stateDir, SESSION_FILE));
  bot = await startBot();
  const again = await bot.surface.send({ roomId: room }, content, { idempotencyKey: key });
  assert.equal(again.messageId, first.messageId);
  await replyTo(alice, await alice.say(room, { msgtype: 'm.text', body: '!help' }));
  const copies = alice.seen.filter(
    (e) => e.sender === bot.userId && e.content['org.rfl_onboard.idempotency_key'] === key,
  );
  assert.equal(copies.length, 1);
});

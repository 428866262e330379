/**
 * An encrypted DM with the bot, on a real Synapse: both sides use matrix-js-sdk's Rust crypto, so the
 * question and the answer travel encrypted and each side decrypts the other's. The bot's crypto store is
 * kept across its restarts: it stays the same device and reads what was sent while it was down.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Preset } from 'matrix-js-sdk';
import { type MatrixBot, startMatrixBot } from '../../bot/adapters/matrix/bot.ts';
import { CRYPTO_STORE_FILE, CRYPTO_STORE_KEY_FILE } from '../../bot/adapters/matrix/crypto-store.ts';
import { SESSION_FILE } from '../../bot/adapters/matrix/session.ts';
import { fixtureChat, fixtureKnowledge, log } from '../helpers/chat-fixture.ts';
import {
  Newcomer,
  type RegisteredUser,
  type Synapse,
  startSynapse,
  unrefSdkRequestTimers,
} from '../helpers/synapse.ts';

unrefSdkRequestTimers();

const knowledge = await fixtureKnowledge('e2ee');
const { dispatcher } = fixtureChat(knowledge, 'matrix');
const work = mkdtempSync(join(tmpdir(), 'rfl-matrix-e2ee-'));
const stateDir = join(work, 'state');

let synapse: Synapse;
let botUser: RegisteredUser;
let aliceUser: RegisteredUser;
let bot: MatrixBot;
let alice: Newcomer;

const startBot = async () => {
  const started = await startMatrixBot({
    homeserverUrl: synapse.baseUrl,
    userId: botUser.userId,
    password: botUser.password,
    stateDir,
    allowlist: ['localhost'],
    dispatcher,
    log,
    encryption: {},
    catchUpMs: 60_000,
  });
  assert.ok(started.ok, 'the bot starts with encryption');
  return started.value;
};

before(async () => {
  synapse = await startSynapse();
  botUser = await synapse.register('rfl-onboard');
  aliceUser = await synapse.register('alice');
  alice = await Newcomer.start(synapse, aliceUser, true);
  bot = await startBot();
});

after(async () => {
  alice?.stop();
  await bot?.stop();
  await synapse?.stop();
});

async function encryptedDm(): Promise<string> {
  const { room_id: roomId } = await alice.client.createRoom({
    preset: Preset.TrustedPrivateChat,
    invite: [bot.userId],
    is_direct: true,
    initial_state: [
      { type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } },
    ],
  });
  await alice.waitFor(
    (e) =>
      e.roomId === roomId &&
      e.type === 'm.room.member' &&
      e.stateKey === bot.userId &&
      e.content.membership === 'join',
    20_000,
    'the bot to join the DM',
  );
  return roomId;
}

async function knowsDevice(userId: string, deviceId: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  const crypto = alice.client.getCrypto();
  while (Date.now() < deadline) {
    const devices = await crypto?.getUserDeviceInfo([userId]);
    if (devices?.get(userId)?.has(deviceId)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the newcomer never learned of ${deviceId}`);
}

const botMessages = (roomId: string) =>
  alice.seen.filter((e) => e.roomId === roomId && e.sender === bot.userId && e.type === 'm.room.message');

/** The bot's next message in the room (after those already seen), matching `body`. */
function botSays(roomId: string, body: RegExp, what: string) {
  const seenBefore = new Set(botMessages(roomId).map((e) => e.id));
  return alice.waitFor(
    (e) =>
      e.roomId === roomId &&
      e.sender === bot.userId &&
      e.type === 'm.room.message' &&
      !seenBefore.has(e.id) &&
      body.test(String(e.content.body)),
    30_000,
    what,
  );
}

async function askEncrypted(roomId: string, body: string, expected = /./) {
  const answered = botSays(roomId, expected, 'the encrypted answer');
  const question = await alice.say(roomId, { msgtype: 'm.text', body });
  return { question, answer: await answered };
}

/**
 * A message the bot can never decrypt: megolm under a session whose key nobody has (as from a client
 * that did not share it), sent as raw m.room.encrypted with Alice's token.
 */
async function undecryptable(roomId: string): Promise<void> {
  const txn = randomBytes(8).toString('hex');
  const url = `${synapse.baseUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.encrypted/${txn}`;
  const response = await fetch(url, {
    method: 'PUT',
    headers: { authorization: `Bearer ${aliceUser.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      algorithm: 'm.megolm.v1.aes-sha2',
      sender_key: 'A'.repeat(43),
      session_id: randomBytes(32).toString('base64').replace(/=+$/, ''),
      device_id: aliceUser.deviceId,
      ciphertext: randomBytes(96).toString('base64').replace(/=+$/, ''),
    }),
  });
  assert.equal(response.status, 200);
}

/** The bot's devices with keys on the homeserver, once `expected` has uploaded its keys. */
async function keyedDevices(expected: string): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const keys = await alice.client.downloadKeysForUsers([bot.userId]);
    const devices = Object.keys(keys.device_keys?.[bot.userId] ?? {});
    if (devices.includes(expected) || Date.now() > deadline) return devices;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const UNREADABLE = /could not decrypt your message/;
const storedSession = () => JSON.parse(readFileSync(join(stateDir, SESSION_FILE), 'utf8'));

test('a question in an encrypted DM gets an encrypted answer the newcomer can read', async () => {
  const roomId = await encryptedDm();
  const { answer } = await askEncrypted(roomId, 'which rustc does 6.1 need?');
  assert.match(String(answer.content.body), /1\.62\.0/);
  const raw = alice.client.getRoom(roomId)?.findEventById(answer.id);
  assert.equal(raw?.getWireType(), 'm.room.encrypted', 'the answer went over the wire encrypted');
});

test('after a restart the bot is the same device, and answers what was asked in the DM while it was down', async () => {
  const roomId = await encryptedDm();
  await askEncrypted(roomId, 'which rustc does 6.1 need?', /1\.62\.0/);
  const before = { deviceId: bot.deviceId, token: storedSession().accessToken };
  const keysBefore = await alice.client.downloadKeysForUsers([bot.userId]);
  await bot.stop();
  const missed = botSays(roomId, /0\.56\.0/, 'the answer to the question asked while the bot was down');
  // A new room key, sent to the bot's device over Olm while it is down: only the kept Olm account and
  // sessions can read it.
  await alice.client.getCrypto()?.forceDiscardSession(roomId);
  await alice.say(roomId, { msgtype: 'm.text', body: 'which bindgen does 6.1 need?' });
  bot = await startBot();
  assert.deepEqual(
    { deviceId: bot.deviceId, token: storedSession().accessToken },
    before,
    'same device and token',
  );
  const keysAfter = await alice.client.downloadKeysForUsers([bot.userId]);
  assert.deepEqual(Object.keys(keysBefore.device_keys?.[bot.userId] ?? {}), [bot.deviceId]);
  assert.deepEqual(
    keysAfter.device_keys,
    keysBefore.device_keys,
    'the same device keys: the Olm account was kept',
  );
  const answer = await missed;
  for (const file of [CRYPTO_STORE_FILE, CRYPTO_STORE_KEY_FILE])
    assert.equal(statSync(join(stateDir, file)).mode & 0o777, 0o600, `${file} is the bot's alone`);
  const raw = alice.client.getRoom(roomId)?.findEventById(answer.id);
  assert.equal(raw?.getWireType(), 'm.room.encrypted');
  assert.equal(botMessages(roomId).filter((e) => UNREADABLE.test(String(e.content.body))).length, 0);
});

test('undecryptable messages from before a restart hold up no answer, and are acknowledged once', async () => {
  const roomId = await encryptedDm();
  await askEncrypted(roomId, 'which rustc does 6.1 need?', /1\.62\.0/);
  await bot.stop();
  for (let i = 0; i < 4; i += 1) await undecryptable(roomId);
  bot = await startBot();
  const acknowledged = botSays(roomId, UNREADABLE, 'the request to send it again');
  let started = Date.now();
  await askEncrypted(roomId, 'which bindgen does 6.1 need?', /0\.56\.0/);
  const firstAfterRestart = Date.now() - started;
  started = Date.now();
  await askEncrypted(roomId, 'which rustc does 6.1 need?', /1\.62\.0/);
  const noBacklog = Date.now() - started;
  // Before, each undecryptable message waited 2 s for its key in the room's queue, in front of new ones.
  assert.ok(
    firstAfterRestart < 3 * Math.max(noBacklog, 300),
    `the first answer after the restart took ${firstAfterRestart} ms, one without backlog ${noBacklog} ms`,
  );
  await acknowledged;
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const notices = botMessages(roomId).filter((e) => UNREADABLE.test(String(e.content.body)));
  assert.equal(notices.length, 1, 'the sender is told once, not once per message');
});

test('an unreadable crypto store: the bot starts as a new device and still answers', async () => {
  const roomId = await encryptedDm();
  const before = bot.deviceId;
  await bot.stop();
  writeFileSync(join(stateDir, CRYPTO_STORE_FILE), 'not a store');
  const noticesBefore = alice.seen.filter((e) => UNREADABLE.test(String(e.content.body))).length;
  const restarted = Date.now();
  bot = await startBot();
  assert.notEqual(bot.deviceId, before);
  assert.deepEqual(await keyedDevices(bot.deviceId), [bot.deviceId], 'the old device is gone');
  // As a real client does, the newcomer's learns of the new device from its sync before encrypting for it.
  await knowsDevice(bot.userId, bot.deviceId);
  await askEncrypted(roomId, 'which bindgen does 6.1 need?', /0\.56\.0/);
  // The earlier DMs' messages, answered before, are unreadable to the new device: no request to resend.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, restarted + 3_000 - Date.now())));
  const notices = alice.seen.filter((e) => UNREADABLE.test(String(e.content.body))).length;
  assert.equal(notices, noticesBefore);
});

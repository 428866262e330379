/**
 * An encrypted DM with the bot, on a real Synapse: both sides use matrix-js-sdk's Rust crypto, so the
 * question and the answer travel encrypted and each side decrypts the other's.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Preset } from 'matrix-js-sdk';
import { type MatrixBot, startMatrixBot } from '../../bot/adapters/matrix/bot.ts';
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

let synapse: Synapse;
let botUser: RegisteredUser;
let bot: MatrixBot;
let alice: Newcomer;

const startBot = async () => {
  const started = await startMatrixBot({
    homeserverUrl: synapse.baseUrl,
    userId: botUser.userId,
    password: botUser.password,
    stateDir: join(work, 'state'),
    allowlist: ['localhost'],
    dispatcher,
    log,
    encryption: {},
  });
  assert.ok(started.ok, 'the bot starts with encryption');
  return started.value;
};

before(async () => {
  synapse = await startSynapse();
  botUser = await synapse.register('rfl-onboard');
  alice = await Newcomer.start(synapse, await synapse.register('alice'), true);
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

async function askEncrypted(roomId: string, body: string) {
  const question = await alice.say(roomId, { msgtype: 'm.text', body });
  return alice
    .waitFor(
      (e) => e.roomId === roomId && e.sender === bot.userId && e.type === 'm.room.message',
      30_000,
      'the encrypted answer',
    )
    .then((answer) => ({ question, answer }));
}

test('a question in an encrypted DM gets an encrypted answer the newcomer can read', async () => {
  const roomId = await encryptedDm();
  const { answer } = await askEncrypted(roomId, 'which rustc does 6.1 need?');
  assert.match(String(answer.content.body), /1\.62\.0/);
  const raw = alice.client.getRoom(roomId)?.findEventById(answer.id);
  assert.equal(raw?.getWireType(), 'm.room.encrypted', 'the answer went over the wire encrypted');
});

test('after a restart the bot is a new device and still answers in the encrypted DM', async () => {
  const roomId = await encryptedDm();
  const before = bot.deviceId;
  await bot.stop();
  bot = await startBot();
  assert.notEqual(bot.deviceId, before);
  const keys = await alice.client.downloadKeysForUsers([bot.userId]);
  assert.deepEqual(
    Object.keys(keys.device_keys?.[bot.userId] ?? {}),
    [bot.deviceId],
    'the old device is gone',
  );
  // As a real client does, the newcomer's learns of the new device from its sync before encrypting for it.
  await knowsDevice(bot.userId, bot.deviceId);
  const { answer } = await askEncrypted(roomId, 'which bindgen does 6.1 need?');
  assert.match(String(answer.content.body), /0\.56\.0/);
});

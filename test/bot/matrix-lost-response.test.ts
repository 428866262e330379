/**
 * A reply whose response is lost: the homeserver stored the event, but the connection dropped before the
 * bot read the answer (a loopback proxy in front of a real Synapse drops it). The bot's retry must not
 * post the reply a second time.
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
  type LossyProxy,
  Newcomer,
  type Synapse,
  startLossyProxy,
  startSynapse,
  unrefSdkRequestTimers,
} from '../helpers/synapse.ts';

unrefSdkRequestTimers();

const knowledge = await fixtureKnowledge('matrix-lost');
const { dispatcher } = fixtureChat(knowledge, 'matrix');
const work = mkdtempSync(join(tmpdir(), 'rfl-matrix-lost-'));

let synapse: Synapse;
let proxy: LossyProxy;
let bot: MatrixBot;
let alice: Newcomer;

before(async () => {
  synapse = await startSynapse();
  proxy = await startLossyProxy(synapse.baseUrl);
  const botUser = await synapse.register('rfl-onboard');
  alice = await Newcomer.start(synapse, await synapse.register('alice'));
  const started = await startMatrixBot({
    homeserverUrl: proxy.baseUrl,
    userId: botUser.userId,
    password: botUser.password,
    stateDir: join(work, 'state'),
    allowlist: ['localhost'],
    dispatcher,
    log,
  });
  assert.ok(started.ok, 'the bot starts behind the proxy');
  bot = started.value;
});

after(async () => {
  alice?.stop();
  await bot?.stop();
  await proxy?.close();
  await synapse?.stop();
});

const SEND_MESSAGE = /\/rooms\/[^/]+\/send\/m\.room\.message\//;

test('an answer whose response was lost is posted once: the retry repeats its transaction id', async () => {
  const { room_id: dm } = await alice.client.createRoom({
    preset: Preset.TrustedPrivateChat,
    invite: [bot.userId],
    is_direct: true,
  });
  await alice.waitFor(
    (e) =>
      e.roomId === dm &&
      e.type === 'm.room.member' &&
      e.stateKey === bot.userId &&
      e.content.membership === 'join',
    20_000,
    'the bot to join the DM',
  );
  const start = proxy.requests.length;
  proxy.loseResponseNext('PUT', SEND_MESSAGE);
  await alice.say(dm, { msgtype: 'm.text', body: 'which bindgen does 6.1 need?' });
  const answer = await alice.waitFor(
    (e) => e.roomId === dm && e.sender === bot.userId && e.type === 'm.room.message',
    20_000,
    'the answer',
  );
  assert.match(String(answer.content.body), /0\.56\.0/);
  const sends = () =>
    proxy.requests.slice(start).filter((r) => r.method === 'PUT' && SEND_MESSAGE.test(r.path));
  const deadline = Date.now() + 10_000;
  while (sends().length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const attempts = sends();
  assert.deepEqual(
    attempts.map((r) => r.status),
    [0, 200],
    'the connection dropped after Synapse stored the answer, and the bot sent it again',
  );
  assert.equal(attempts[1]?.path, attempts[0]?.path, 'with the same transaction id');
  const answers = () =>
    alice.seen.filter((e) => e.roomId === dm && e.sender === bot.userId && e.type === 'm.room.message');
  // Time for a copy to arrive, had there been one.
  await alice
    .waitFor((e) => answers().some((a) => a.id === e.id && a.id !== answer.id), 1_500)
    .then(
      () => assert.fail('the answer was posted twice'),
      () => {},
    );
  assert.equal(answers().length, 1, 'the user sees the answer once');
});

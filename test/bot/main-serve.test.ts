/**
 * `node bot/main.ts serve` as an operator runs it: configured by environment variables alone (the
 * password from a *_FILE), connected to a real Synapse, answering in a room it was invited to, and
 * stopping cleanly on SIGTERM.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Preset } from 'matrix-js-sdk';
import { botWorkDir, spawnBot } from '../helpers/bot-process.ts';
import { freePort, shutdownRedis } from '../helpers/redis.ts';
import { Newcomer, startSynapse, unrefSdkRequestTimers } from '../helpers/synapse.ts';

unrefSdkRequestTimers();

const work = botWorkDir('serve');
const redisUrl = `redis://127.0.0.1:${await freePort()}`;
const synapse = await startSynapse();

after(async () => {
  await shutdownRedis(redisUrl);
  await synapse.stop();
});

test('serve connects to Matrix from env settings, answers in a room, and stops on SIGTERM', async () => {
  const botUser = await synapse.register('rfl-serve');
  const alice = await Newcomer.start(synapse, await synapse.register('alice'));
  const passwordFile = join(work.dir, 'matrix-password');
  writeFileSync(passwordFile, `${botUser.password}\n`, { mode: 0o600 });
  const bot = spawnBot(work, ['serve', '--no-worker'], {
    RFL_REDIS_URL: redisUrl,
    RFL_MATRIX_HOMESERVER_URL: synapse.baseUrl,
    RFL_MATRIX_USER_ID: botUser.userId,
    RFL_MATRIX_PASSWORD_FILE: passwordFile,
    RFL_MATRIX_ALLOWLIST: JSON.stringify([alice.userId]),
  });
  try {
    // The bot logs in before it can be invited usefully; an invite before that waits in its first sync.
    const room = (await alice.client.createRoom({ preset: Preset.PrivateChat, invite: [botUser.userId] }))
      .room_id;
    await alice.waitFor(
      (e) =>
        e.roomId === room &&
        e.type === 'm.room.member' &&
        e.stateKey === botUser.userId &&
        e.content.membership === 'join',
      60_000,
      'the bot to join',
    );
    // Two members: a DM-like room, so no mention is needed.
    const question = await alice.say(room, { msgtype: 'm.text', body: 'which bindgen does 6.1 need?' });
    const reply = await alice.waitFor(
      (e) =>
        e.sender === botUser.userId &&
        (e.content['m.relates_to'] as { 'm.in_reply_to'?: { event_id: string } } | undefined)?.[
          'm.in_reply_to'
        ]?.event_id === question,
      60_000,
      'the answer',
    );
    assert.match(String(reply.content.body), /0\.56\.0/);
    // The operator's endpoints: alive, ready (Redis and Matrix), and metrics that counted the question.
    const port = /"port":(\d+),"msg":"ops endpoints/.exec(bot.stderr())?.[1];
    assert.ok(port, 'the ops port is logged');
    assert.equal(bot.stderr().match(/"msg":"ops endpoints/g)?.length, 1, 'once');
    const ops = `http://127.0.0.1:${port}`;
    assert.equal((await fetch(`${ops}/healthz`)).status, 200);
    const ready = await fetch(`${ops}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { redis: 'ok', matrix: 'ok' });
    assert.match(await (await fetch(`${ops}/metrics`)).text(), /rfl_questions_total\{outcome="answered"\} 1/);
    assert.doesNotMatch(bot.stderr(), new RegExp(botUser.password), 'the password never reaches the log');
  } finally {
    bot.child.kill('SIGTERM');
    alice.stop();
  }
  assert.equal(await bot.exited, 0, bot.stderr().slice(-2000));
  assert.match(bot.stderr(), /"msg":"stopping"/);
});

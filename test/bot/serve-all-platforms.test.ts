/**
 * Issue 14's "done when": one `node bot/main.ts serve` (what `npm run serve` runs), configured by
 * environment variables alone with Matrix (a real Synapse on loopback), Discord (the fake, at
 * `discord.apiBaseUrl`) and Zulip (the fake) settings together, answers on all three, each answer on its
 * own platform and in the place it was asked, and /readyz reports every one of them.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Preset } from 'matrix-js-sdk';
import { botWorkDir, spawnBot } from '../helpers/bot-process.ts';
import { eventually } from '../helpers/fake-discord/bot.ts';
import { FakeDiscord } from '../helpers/fake-discord/index.ts';
import { FakeZulip } from '../helpers/fake-zulip/index.ts';
import { freePort, shutdownRedis } from '../helpers/redis.ts';
import { Newcomer, startSynapse, unrefSdkRequestTimers } from '../helpers/synapse.ts';

unrefSdkRequestTimers();

const zulipBot = { user_id: 5, email: 'onboard-bot@zulip.test', full_name: 'Onboard', apiKey: 'k3y' };
const zulipAlice = { user_id: 9, email: 'alice@zulip.test', full_name: 'Alice' };
const work = botWorkDir('serve-all');
const redisUrl = `redis://127.0.0.1:${await freePort()}`;
const synapse = await startSynapse();
const discord = await FakeDiscord.start();
const zulip = await new FakeZulip({ bot: zulipBot, heartbeatMs: 5000 }).start();

after(async () => {
  await shutdownRedis(redisUrl);
  await synapse.stop();
  await discord.close();
  await zulip.stop();
});

test('serve with Matrix, Discord and Zulip settings together answers on each, and /readyz reports all three', async () => {
  const matrixBot = await synapse.register('rfl-serve-all');
  const matrixAlice = await Newcomer.start(synapse, await synapse.register('alice'));
  const passwordFile = join(work.dir, 'matrix-password');
  writeFileSync(passwordFile, `${matrixBot.password}\n`, { mode: 0o600 });
  const bot = spawnBot(work, ['serve', '--no-worker'], {
    RFL_REDIS_URL: redisUrl,
    RFL_MATRIX_HOMESERVER_URL: synapse.baseUrl,
    RFL_MATRIX_USER_ID: matrixBot.userId,
    RFL_MATRIX_PASSWORD_FILE: passwordFile,
    RFL_MATRIX_ALLOWLIST: JSON.stringify([matrixAlice.userId]),
    RFL_DISCORD_TOKEN: discord.token,
    RFL_DISCORD_APPLICATION_ID: discord.applicationId,
    RFL_DISCORD_GUILD_IDS: JSON.stringify([discord.guildId]),
    RFL_DISCORD_API_BASE_URL: discord.apiBaseUrl,
    RFL_ZULIP_SITE: zulip.siteUrl,
    RFL_ZULIP_EMAIL: zulipBot.email,
    RFL_ZULIP_API_KEY: zulipBot.apiKey,
    RFL_ZULIP_CHANNELS: JSON.stringify(['rust-for-linux']),
  });
  try {
    await eventually(async () => (/"msg":"serving/.test(bot.stderr()) ? true : undefined), 90_000);
    assert.ok(discord.commands.has(discord.guildId), 'slash commands registered through the fake Discord');

    // The three questions go out together: one process serves them side by side.
    const room = (
      await matrixAlice.client.createRoom({ preset: Preset.PrivateChat, invite: [matrixBot.userId] })
    ).room_id;
    const discordAlice = discord.user('alice');
    const discordQuestion = discord.say(
      discord.channel.id,
      discordAlice,
      '!ask which bindgen does 6.1 need?',
    );
    zulip.say(zulipAlice, '!ask which bindgen does 6.1 need?', {
      stream: 'rust-for-linux',
      topic: 'newcomers',
    });

    await matrixAlice.waitFor(
      (e) =>
        e.roomId === room &&
        e.type === 'm.room.member' &&
        e.stateKey === matrixBot.userId &&
        e.content.membership === 'join',
      60_000,
      'the bot to join the Matrix room',
    );
    // Two members: a DM-like room, so no mention is needed.
    const matrixQuestion = await matrixAlice.say(room, {
      msgtype: 'm.text',
      body: 'which bindgen does 6.1 need?',
    });
    const matrixAnswer = await matrixAlice.waitFor(
      (e) =>
        e.sender === matrixBot.userId &&
        (e.content['m.relates_to'] as { 'm.in_reply_to'?: { event_id: string } } | undefined)?.[
          'm.in_reply_to'
        ]?.event_id === matrixQuestion,
      60_000,
      'the Matrix answer',
    );
    assert.equal(matrixAnswer.roomId, room, 'the Matrix answer is in the room asked in');
    assert.match(String(matrixAnswer.content.body), /0\.56\.0/);

    // On Discord the answer goes in a thread started on the question, in the channel it was asked in.
    const [discordAnswer] = await discord.waitFor(() => {
      const found = discord.messagesIn(discordQuestion.id);
      return found.length > 0 && found;
    }, 30_000);
    assert.match(discordAnswer!.content, /0\.56\.0/);
    assert.equal(discordAnswer!.author.id, discord.botUser.id);
    assert.equal(
      discord.channelById(discordQuestion.id)?.parent_id,
      discord.channel.id,
      'a thread off the question',
    );

    const zulipAnswer = await eventually(async () => {
      return zulip
        .messagesIn('rust-for-linux', 'newcomers')
        .find((message) => message.sender_id === zulipBot.user_id);
    }, 30_000);
    assert.match(String(zulipAnswer.content), /0\.56\.0/);

    // Each platform got its own answer and only that: nothing crossed over to another.
    assert.equal(
      matrixAlice.seen.filter((e) => e.sender === matrixBot.userId && e.type === 'm.room.message').length,
      1,
      'one answer on Matrix',
    );
    assert.deepEqual(
      discord.messagesIn(discord.channel.id).filter((message) => message.author.id === discord.botUser.id),
      [],
      'nothing from the bot in the Discord channel itself: its answer is in the thread',
    );
    assert.equal(
      zulip
        .messagesIn('rust-for-linux', 'newcomers')
        .filter((message) => message.sender_id === zulipBot.user_id).length,
      1,
      'one answer in the Zulip topic',
    );

    const port = /"port":(\d+),"msg":"ops endpoints/.exec(bot.stderr())?.[1];
    assert.ok(port, 'the ops port is logged');
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, {
      redis: 'ok',
      matrix: 'ok',
      discord: 'ok',
      zulip: 'ok',
    });
  } finally {
    bot.child.kill('SIGTERM');
    matrixAlice.stop();
  }
  assert.equal(await bot.exited, 0, bot.stderr().slice(-2000));
  assert.match(bot.stderr(), /"msg":"stopping"/);
});

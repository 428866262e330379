/**
 * `node bot/main.ts serve` on Discord as an operator runs it, configured by environment variables alone:
 * `discord.apiBaseUrl` points it at the loopback fake Discord (as at an HTTP proxy in front of Discord's
 * API), whose GET /gateway/bot names the gateway. A newcomer asks, gets the answer, and rates it.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisChatLedger } from '../../bot/dispatch/chat-ledger.ts';
import { botWorkDir, spawnBot } from '../helpers/bot-process.ts';
import { eventually } from '../helpers/fake-discord/bot.ts';
import { FakeDiscord } from '../helpers/fake-discord/index.ts';
import { freePort, shutdownRedis } from '../helpers/redis.ts';

const work = botWorkDir('serve-discord');
const redisUrl = `redis://127.0.0.1:${await freePort()}`;
const fake = await FakeDiscord.start();

after(async () => {
  await shutdownRedis(redisUrl);
  await fake.close();
});

test('serve talks to the Discord API at discord.apiBaseUrl: a question, its answer, and a 👎 on it', async () => {
  const bot = spawnBot(work, ['serve', '--no-worker'], {
    RFL_REDIS_URL: redisUrl,
    RFL_DISCORD_TOKEN: fake.token,
    RFL_DISCORD_APPLICATION_ID: fake.applicationId,
    RFL_DISCORD_GUILD_IDS: JSON.stringify([fake.guildId]),
    RFL_DISCORD_API_BASE_URL: fake.apiBaseUrl,
  });
  const redis = new Redis(redisUrl);
  const ledger = new RedisChatLedger(redis);
  try {
    await fake.waitFor(() => /"msg":"serving/.test(bot.stderr()), 60_000, 'the bot to serve');
    assert.ok(fake.commands.has(fake.guildId), 'slash commands registered through the fake');
    const alice = fake.user('alice');
    const question = fake.say(fake.channel.id, alice, '!ask which bindgen does 6.1 need?');
    const [answer] = await fake.waitFor(() => {
      const found = fake.messagesIn(question.id);
      return found.length > 0 && found;
    }, 30_000);
    assert.match(answer!.content, /0\.56\.0/);

    // Rated once the bot has recorded the answer, as a reader would, after reading it.
    await eventually(() => ledger.answer(`discord:${answer!.id}`).then((found) => found ?? undefined));
    fake.react(answer!.id, alice, '👎');
    const ratings = await eventually(async () => {
      const found = await ledger.ratings(`discord:${answer!.id}`);
      return Object.keys(found).length > 0 ? found : undefined;
    });
    assert.deepEqual(ratings, { [alice.id]: 'down' });
    const port = /"port":(\d+),"msg":"ops endpoints/.exec(bot.stderr())?.[1];
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { redis: 'ok', discord: 'ok' });
    assert.match(
      await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
      /rfl_feedback_total\{rating="down"\} 1/,
    );
  } finally {
    redis.disconnect();
    bot.child.kill('SIGTERM');
  }
  assert.equal(await bot.exited, 0, bot.stderr().slice(-2000));
});

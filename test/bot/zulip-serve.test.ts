/**
 * `node bot/main.ts serve` on Zulip as an operator runs it, configured by environment variables alone
 * (the organisation's address, the bot's email and API key, the channel it listens in), against the
 * loopback fake Zulip: a newcomer asks in a channel topic, gets the answer there, and rates it.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisChatLedger } from '../../bot/dispatch/chat-ledger.ts';
import { botWorkDir, spawnBot } from '../helpers/bot-process.ts';
import { eventually } from '../helpers/fake-discord/bot.ts';
import { FakeZulip } from '../helpers/fake-zulip/index.ts';
import { freePort, shutdownRedis } from '../helpers/redis.ts';

const botUser = { user_id: 5, email: 'onboard-bot@zulip.test', full_name: 'Onboard', apiKey: 'k3y' };
const alice = { user_id: 9, email: 'alice@zulip.test', full_name: 'Alice' };
const work = botWorkDir('serve-zulip');
const redisUrl = `redis://127.0.0.1:${await freePort()}`;
const fake = await new FakeZulip({ bot: botUser, heartbeatMs: 5000 }).start();

after(async () => {
  await shutdownRedis(redisUrl);
  await fake.stop();
});

test('serve with only Zulip settings answers a channel question in its topic, and records a 👎', async () => {
  const bot = spawnBot(work, ['serve', '--no-worker'], {
    RFL_REDIS_URL: redisUrl,
    RFL_ZULIP_SITE: fake.siteUrl,
    RFL_ZULIP_EMAIL: botUser.email,
    RFL_ZULIP_API_KEY: botUser.apiKey,
    RFL_ZULIP_CHANNELS: JSON.stringify(['rust-for-linux']),
  });
  const redis = new Redis(redisUrl);
  const ledger = new RedisChatLedger(redis);
  try {
    await eventually(async () => (/"msg":"serving/.test(bot.stderr()) ? true : undefined), 60_000);
    fake.say(alice, '!ask which bindgen does 6.1 need?', { stream: 'rust-for-linux', topic: 'newcomers' });
    const answer = await eventually(async () => {
      const found = fake
        .messagesIn('rust-for-linux', 'newcomers')
        .find((message) => message.sender_id === botUser.user_id);
      return found;
    }, 30_000);
    assert.match(String(answer.content), /0\.56\.0/);

    await eventually(() => ledger.answer(`zulip:${answer.id}`).then((found) => found ?? undefined));
    fake.react(alice, Number(answer.id), 'thumbs_down');
    const ratings = await eventually(async () => {
      const found = await ledger.ratings(`zulip:${answer.id}`);
      return Object.keys(found).length > 0 ? found : undefined;
    });
    assert.deepEqual(ratings, { [String(alice.user_id)]: 'down' });
    const port = /"port":(\d+),"msg":"ops endpoints/.exec(bot.stderr())?.[1];
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { redis: 'ok', zulip: 'ok' });
  } finally {
    redis.disconnect();
    bot.child.kill('SIGTERM');
  }
  assert.equal(await bot.exited, 0, bot.stderr().slice(-2000));
});

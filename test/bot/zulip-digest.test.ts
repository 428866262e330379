/**
 * The weekly digest on Zulip, as operators run it: `node bot/main.ts serve` with only Zulip settings and
 * the digest scheduled every two seconds, against the loopback fake Zulip. The whole digest goes to the
 * configured channel's topic (Zulip has no threads), every part once even when the bot is killed right
 * after the lead; with approval on it waits in the admin channel's topic until an admin of chat.admins
 * (zulip:<id>) reacts ✅, and `!digest preview` is for those admins only.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { reportedWeek } from '../../bot/digest/iso-week.ts';
import { RedisActivityLog } from '../../jobs/activity.ts';
import { botWorkDir, spawnBot } from '../helpers/bot-process.ts';
import { eventually } from '../helpers/fake-discord/bot.ts';
import { FakeZulip } from '../helpers/fake-zulip/index.ts';
import { privateRedis } from '../helpers/jobs.ts';

const botUser = { user_id: 5, email: 'digest-bot@zulip.test', full_name: 'Onboard', apiKey: 'k3y' };
const alice = { user_id: 9, email: 'alice@zulip.test', full_name: 'Alice' };
const bob = { user_id: 12, email: 'bob@zulip.test', full_name: 'Bob' };
const work = botWorkDir('zulip-digest');
const redis = await privateRedis();
const fake = await new FakeZulip({ bot: botUser, heartbeatMs: 5000 }).start();

after(async () => {
  await fake.stop();
  await redis.stop();
});

const serve = (env: Record<string, string>) =>
  spawnBot(work, ['serve', '--no-worker'], {
    RFL_REDIS_URL: redis.url,
    RFL_ZULIP_SITE: fake.siteUrl,
    RFL_ZULIP_EMAIL: botUser.email,
    RFL_ZULIP_API_KEY: botUser.apiKey,
    RFL_DIGEST_ENABLED: 'true',
    RFL_DIGEST_SCHEDULE: '*/2 * * * * *',
    ...env,
  });

const fromBot = (stream: string, topic: string) =>
  fake.messagesIn(stream, topic).filter((message) => message.sender_id === botUser.user_id);
const leadsIn = (stream: string, topic: string) =>
  fromBot(stream, topic).filter((message) => String(message.content).startsWith('📰'));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function lastWeeksQuestions() {
  const connection = new Redis(redis.url);
  const activity = new RedisActivityLog(connection, { key: 'rfl:activity', retentionDays: 90 });
  const week = reportedWeek(Date.now());
  for (const [n, question] of ['which rustc does 6.1 need?', 'how do I enable CONFIG_RUST?'].entries())
    await activity.record({
      type: 'question',
      at: week.start + (n + 1) * 3_600_000,
      platform: 'zulip',
      asker: 'someone',
      question,
      private: false,
      answered: n === 0,
      confidence: 0.6,
      kernelVersion: '6.1.50',
      passages: [{ title: 'Quick Start › rustc', url: 'https://docs.example/quick-start' }],
    });
  connection.disconnect();
}

test('killed after the lead, the restarted bot finishes the digest in the topic: every part once', async () => {
  await lastWeeksQuestions();
  const news = { stream: 'rust-news', topic: 'weekly digest' };
  const env = {
    RFL_DIGEST_TARGETS: JSON.stringify([
      { platform: 'zulip', room: String(fake.streamId(news.stream)), topic: news.topic },
    ]),
    RFL_DIGEST_APPROVAL: 'false',
  };
  let bot = serve(env);
  try {
    await eventually(async () => /"msg":"digest: lead posted"/.test(bot.stderr()) || undefined, 60_000);
    bot.child.kill('SIGKILL');
    await bot.exited;
    bot = serve(env);
    await eventually(
      async () => /"step":"chart".*"msg":"digest: posted"/.test(bot.stderr()) || undefined,
      60_000,
    );
    await pause(5_000); // more ticks: nothing more may come
    bot.child.kill('SIGTERM');
    assert.equal(await bot.exited, 0, bot.stderr().slice(-2000));
  } finally {
    bot.child.kill('SIGKILL');
  }
  const posted = fromBot(news.stream, news.topic);
  assert.equal(leadsIn(news.stream, news.topic).length, 1, 'one lead');
  assert.match(
    String(posted[0]!.content),
    /^📰 .*2 questions \\\(1 unanswered\\\)\.\nDetails below, in this topic\./,
  );
  const firstLines = posted.map((message) => String(message.content).split('\n')[0]);
  assert.equal(new Set(firstLines).size, firstLines.length, `nothing twice: ${firstLines.join(' | ')}`);
  assert.ok(firstLines.some((line) => line?.startsWith('Docs gaps')));
  const charts = posted.filter((message) =>
    /\[digest-[\w-]+\.png\]\(\/user_uploads\//.test(String(message.content)),
  );
  assert.equal(charts.length, 1, 'the chart, once, as an uploaded picture');
});

test('with approval on, the digest waits in the admin topic for a Zulip admin’s ✅; previews are for admins', async () => {
  const news = { stream: 'announcements', topic: 'this week' };
  const admins = { stream: 'bot-admins', topic: 'digest approval' };
  const bot = serve({
    RFL_ZULIP_CHANNELS: JSON.stringify([admins.stream]),
    RFL_DIGEST_TARGETS: JSON.stringify([
      { platform: 'zulip', room: String(fake.streamId(news.stream)), topic: news.topic },
    ]),
    RFL_DIGEST_ADMIN_ROOMS: JSON.stringify([
      { platform: 'zulip', room: String(fake.streamId(admins.stream)), topic: admins.topic },
    ]),
    // Bob's Zulip id is 12: a Discord admin with that id is not him.
    RFL_CHAT_ADMINS: JSON.stringify([`zulip:${alice.user_id}`, String(bob.user_id)]),
    RFL_DIGEST_APPROVAL: 'true',
  });
  try {
    const [request] = await eventually(async () => {
      const found = leadsIn(admins.stream, admins.topic);
      return found.length > 0 ? found : undefined;
    }, 60_000);
    assert.match(String(request!.content), /reacting ✅ to this message sends it/);

    const chat = { stream: admins.stream, topic: 'previews' };
    fake.say(bob, '!digest preview', chat);
    fake.say(alice, '!digest preview', chat);
    const replies = await eventually(async () => {
      const found = fromBot(chat.stream, chat.topic);
      // Without the invisible marker every message ends with.
      return found.length >= 2
        ? found.map((message) =>
            String(message.content)
              .trimEnd()
              .replace(/\n[\u200b-\u200d\u2060]+$/, ''),
          )
        : undefined;
    }, 10_000);
    assert.ok(replies.includes('Digest previews are for the bot’s admins only.'), replies.join(' | '));
    assert.ok(replies.some((reply) => reply.startsWith('Preview of the digest so far')));

    fake.react(bob, Number(request!.id), 'check');
    await pause(3_000); // ticks pass: nothing goes out unapproved, nor on a non-admin's ✅
    assert.equal(fromBot(news.stream, news.topic).length, 0);

    fake.react(alice, Number(request!.id), 'check');
    await eventually(async () => leadsIn(news.stream, news.topic)[0], 30_000);
    await pause(4_000);
    assert.equal(leadsIn(news.stream, news.topic).length, 1, 'posted once');
    assert.equal(leadsIn(admins.stream, admins.topic).length, 1, 'asked once');
  } finally {
    bot.child.kill('SIGTERM');
    await bot.exited;
  }
});

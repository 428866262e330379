/**
 * The weekly digest in a Discord channel through the real discord.js client and the loopback fake: the
 * lead in the channel, the details in a thread started from it, the chart as an attached PNG, every
 * message sent with an enforced nonce, and nothing posted twice when the digest runs again.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { reportedWeek } from '../../bot/digest/iso-week.ts';
import { DigestService } from '../../bot/digest/service.ts';
import { MemoryActivityLog } from '../../jobs/activity.ts';
import { type BotOnFake, discordKnowledge, startBotOnFake } from '../helpers/fake-discord/bot.ts';
import { log, privateRedis } from '../helpers/jobs.ts';

let env: BotOnFake;
let redis: Awaited<ReturnType<typeof privateRedis>>;
let client: Redis;

before(async () => {
  redis = await privateRedis();
  client = new Redis(redis.url);
  env = await startBotOnFake(await discordKnowledge());
});
after(async () => {
  await env.stop();
  client.disconnect();
  await redis.stop();
});

test('the digest goes to the channel with its details in a thread and the chart attached, once', async () => {
  const week = reportedWeek(Date.now());
  const activity = new MemoryActivityLog();
  await activity.record({
    type: 'job',
    at: week.start + 3_600_000,
    jobId: 'abcde',
    kind: 'build',
    boot: true,
    outcome: 'success',
    durationMs: 4000,
    kernelVersion: '6.1.192',
  });
  const channel = env.fake.channel.id;
  const service = new DigestService({
    redis: client,
    namespace: 'rfltest:discord-digest',
    redisUrl: redis.url,
    activity,
    docs: () => [],
    feeds: [],
    feedTimeoutMs: 1000,
    targets: [{ platform: 'discord', room: channel }],
    approval: { required: false, adminRooms: [], admins: [] },
    log,
  });
  const start = env.fake.requests.length;
  const report = await service.run({ discord: env.bot.chat });
  assert.equal(report.posted.length, 1);
  const [lead] = env.fake.messagesIn(channel).filter((m) => m.content.startsWith('📰'));
  assert.match(lead!.content, /1 build \(100% passed, 1 booted in QEMU\)/);
  const thread = env.fake.messagesIn(lead!.id);
  assert.ok(
    thread.some((m) => m.content.startsWith('Jobs:')),
    'details in the thread started from the lead',
  );
  const posts = env.fake.requests
    .slice(start)
    .filter((r) => r.method === 'POST' && r.path.endsWith('/messages'));
  assert.ok(
    posts.every(
      (r) =>
        (r.body as { enforce_nonce?: boolean }).enforce_nonce === true &&
        (r.body as { nonce?: string }).nonce,
    ),
  );
  const chart = posts.flatMap((r) => r.files).find((f) => f.name.endsWith('.png'));
  assert.ok(chart && chart.data.subarray(1, 4).toString() === 'PNG', 'the chart is a PNG attachment');
  await service.run({ discord: env.bot.chat });
  assert.equal(env.fake.messagesIn(channel).filter((m) => m.content.startsWith('📰')).length, 1);
});

/**
 * The digest service on a real Redis with a real feed served over loopback HTTP: composed once per week
 * (feed items taken once), posted once per target however often it runs or however many instances run
 * it, resumed after a crash between steps without posting anything twice, held for an admin's ✅ when
 * approval is on, and driven by BullMQ's job scheduler.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import type { MessageSender, SendOptions } from '../../../bot/chat/capabilities.ts';
import type { ConversationRef } from '../../../bot/chat/message.ts';
import type { RichMessage } from '../../../bot/chat/rich-message.ts';
import { isoWeekOf, reportedWeek } from '../../../bot/digest/iso-week.ts';
import { DigestService, type DigestServiceOptions, type DigestTarget } from '../../../bot/digest/service.ts';
import { MemoryActivityLog } from '../../../jobs/activity.ts';
import { log, privateRedis } from '../../helpers/jobs.ts';

let redis: Awaited<ReturnType<typeof privateRedis>>;
let client: Redis;
let feedServer: Server;
let feedUrl = '';
let feedRequests = 0;
let namespaces = 0;

before(async () => {
  redis = await privateRedis();
  client = new Redis(redis.url);
  const atom = readFileSync(new URL('../../fixtures/feeds/list-v1.atom.xml', import.meta.url));
  feedServer = createServer((_request, response) => {
    feedRequests += 1;
    response.writeHead(200, { 'content-type': 'application/atom+xml' }).end(atom);
  });
  await new Promise<void>((resolve) => feedServer.listen(0, '127.0.0.1', resolve));
  feedUrl = `http://127.0.0.1:${(feedServer.address() as { port: number }).port}/list.atom`;
});
after(async () => {
  feedServer.close();
  client.disconnect();
  await redis.stop();
});

/** A platform that keeps every message sent, in order, with where it went; it can be made to fail. */
class RecordingSender implements MessageSender {
  readonly sent: {
    to: ConversationRef;
    content: RichMessage;
    options: SendOptions | undefined;
    id: string;
  }[] = [];
  failAfter = Number.POSITIVE_INFINITY;

  async send(to: ConversationRef, content: RichMessage, options?: SendOptions) {
    if (this.sent.length >= this.failAfter) throw new Error('the bot died here');
    const id = `$m${this.sent.length + 1}`;
    this.sent.push({ to, content, options, id });
    return { conversation: to, messageId: id };
  }
}

const room: DigestTarget = { platform: 'matrix', room: '!digest:localhost' };
const admins: DigestTarget = { platform: 'matrix', room: '!admins:localhost' };
const lastWeek = reportedWeek(Date.now());

async function serviceWith(
  extra: Partial<DigestServiceOptions> = {},
  namespace = `rfltest:digest:${++namespaces}`,
) {
  const activity = new MemoryActivityLog();
  for (const [n, text] of ['which rustc does 6.1 need?', 'why is CONFIG_RUST greyed out?'].entries())
    await activity.record({
      type: 'question',
      at: lastWeek.start + (n + 1) * 3_600_000,
      platform: 'matrix',
      asker: 'x',
      question: text,
      answered: n === 0,
      confidence: 0.5,
      kernelVersion: '6.1.192',
      passages: [{ title: 'Quick Start', url: 'https://docs.example/quick-start' }],
    });
  const options: DigestServiceOptions = {
    redis: client,
    namespace,
    redisUrl: redis.url,
    activity,
    docs: () => [],
    feeds: [{ url: feedUrl, name: 'rust-for-linux list' }],
    feedTimeoutMs: 5000,
    targets: [room],
    approval: { required: false, adminRooms: [admins], admins: ['@admin:localhost'] },
    log,
    ...extra,
  };
  return { service: new DigestService(options), options, namespace };
}

test('a week is composed once: every instance gets the same digest, and feed items are not taken again', async () => {
  const { options } = await serviceWith();
  const first = new DigestService(options);
  const otherConnection = new Redis(redis.url);
  const second = new DigestService({ ...options, redis: otherConnection });
  const [a, b] = await Promise.all([first.prepare(lastWeek), second.prepare(lastWeek)]).finally(() =>
    otherConnection.disconnect(),
  );
  assert.deepEqual(a, b);
  assert.match(a.lead.lead, /2 questions \(1 unanswered\)/);
  assert.match(a.lead.lead, /new threads on the feeds/);
  const feedNews = a.details.find((m) => m.lead === 'New on the feeds:');
  assert.ok(
    feedNews?.details.some((line) => line.includes('[RFC PATCH v2 0/2]') || line.includes('register map')),
  );
  const thisWeek = await first.prepare(isoWeekOf(Date.now()));
  assert.equal(
    thisWeek.details.find((m) => m.lead === 'New on the feeds:'),
    undefined,
    'no item twice',
  );
});

test('a lock that expired and was taken by another instance is neither renewed nor released by the old holder', async () => {
  // Composing pauses past the lock's lifetime; meanwhile another instance takes the expired lock for
  // a minute, and the old holder's renewal timer (every 5 s) fires once before it finishes.
  const activity = new MemoryActivityLog();
  let lockKey = '';
  activity.between = async () => {
    await client.set(lockKey, 'another-instance', 'PX', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    return [];
  };
  const { service, namespace } = await serviceWith({ activity });
  lockKey = `${namespace}:composing:${lastWeek.label}`;
  await service.prepare(lastWeek);
  assert.equal(await client.get(lockKey), 'another-instance', 'the old holder did not release it');
  assert.ok((await client.pttl(lockKey)) > 50_000, 'nor cut it to its own lifetime');
});

test('posted once per target: a repeated run and a second instance skip it', async () => {
  const { service, options } = await serviceWith();
  const sender = new RecordingSender();
  const reports = await Promise.all([
    service.run({ matrix: sender }),
    new DigestService(options).run({ matrix: sender }),
  ]);
  const posted = reports.reduce((n, r) => n + r.posted.length, 0);
  assert.ok(posted <= 1, 'one instance posts');
  await service.run({ matrix: sender });
  const leads = sender.sent.filter((m) => m.content.lead.startsWith('📰'));
  assert.equal(leads.length, 1);
  const thread = sender.sent.filter((m) => m.to.threadId === leads[0]!.id);
  assert.equal(thread.length, sender.sent.length - 1, 'the details and the chart are in the lead’s thread');
  assert.ok(
    thread.some((m) => m.content.image?.name.endsWith('.png')),
    'the chart is attached',
  );
  assert.ok(
    sender.sent.every((m) => m.options?.idempotencyKey),
    'every send is idempotent',
  );
  assert.deepEqual((await service.run({ matrix: sender })).skipped, [room]);
  assert.deepEqual((await service.run({})).skipped, [room], 'already posted, connected or not');
});

test('a crash between steps: the run after it posts the rest, nothing twice', async () => {
  const { service, options } = await serviceWith();
  const sender = new RecordingSender();
  sender.failAfter = 2; // the lead and one detail go out, then the bot dies
  await assert.rejects(service.run({ matrix: sender }), /the bot died here/);
  sender.failAfter = Number.POSITIVE_INFINITY;
  const restarted = new DigestService(options);
  assert.deepEqual((await restarted.run({ matrix: sender })).posted, [room]);
  const keys = sender.sent.map((m) => m.options?.idempotencyKey);
  assert.equal(new Set(keys).size, keys.length, 'no step was sent twice');
  assert.equal(sender.sent.filter((m) => m.content.lead.startsWith('📰')).length, 1);
  const digest = await restarted.prepare(lastWeek);
  assert.equal(sender.sent.length, 1 + digest.details.length + 1, 'lead, details and chart');
});

test('a target whose platform is not connected here waits for the next run', async () => {
  const { service } = await serviceWith({ targets: [room, { platform: 'discord', room: '123' }] });
  const sender = new RecordingSender();
  const report = await service.run({ matrix: sender });
  assert.deepEqual([report.posted, report.pending], [[room], [{ platform: 'discord', room: '123' }]]);
});

test('with approval on, the digest waits in the admin room for an admin’s ✅', async () => {
  const { service } = await serviceWith({
    approval: { required: true, adminRooms: [admins], admins: ['@admin:localhost'] },
  });
  const sender = new RecordingSender();
  await service.run({ matrix: sender });
  assert.ok(sender.sent.length > 0 && sender.sent.every((m) => m.to.roomId === admins.room), 'admins only');
  const request = sender.sent[0]!;
  assert.match(request.content.details.join('\n'), /reacting ✅ to this message sends it/);
  await service.run({ matrix: sender });
  assert.equal(sender.sent.filter((m) => m.content.lead.startsWith('📰')).length, 1, 'asked once');
  assert.equal(await service.approved('matrix', request.id, '@someone:localhost', { matrix: sender }), false);
  assert.equal(await service.approved('matrix', request.id, '@admin:localhost', { matrix: sender }), true);
  const published = sender.sent.filter((m) => m.to.roomId === room.room);
  assert.equal(published.filter((m) => m.content.lead.startsWith('📰')).length, 1);
  await service.approved('matrix', request.id, '@admin:localhost', { matrix: sender });
  await service.run({ matrix: sender });
  assert.equal(sender.sent.filter((m) => m.to.roomId === room.room).length, published.length, 'once');
});

test('the job scheduler runs it on the cron schedule, and ticks after the first post nothing', async () => {
  const { service } = await serviceWith();
  const sender = new RecordingSender();
  const scheduled = await service.schedule('* * * * * *', 'Europe/Berlin', () => ({ matrix: sender }));
  try {
    const deadline = Date.now() + 10_000;
    while (sender.sent.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // two more ticks at least
  } finally {
    await scheduled.close();
  }
  assert.equal(sender.sent.filter((m) => m.content.lead.startsWith('📰')).length, 1);
  assert.ok(feedRequests > 0);
});

/**
 * The weekly digest in a Matrix room, as operators run it: `node bot/main.ts serve` with the digest
 * scheduled every two seconds, last week's activity in Redis and a feed served over loopback. The bot is
 * SIGKILLed right after it posted the lead; the restarted bot finishes the digest in the lead's thread,
 * and the room sees every part exactly once, the chart as a picture, however many ticks follow.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { EventType, Preset, RelationType } from 'matrix-js-sdk';
import { reportedWeek } from '../../bot/digest/iso-week.ts';
import { RedisActivityLog } from '../../jobs/activity.ts';
import { botWorkDir, spawnBot } from '../helpers/bot-process.ts';
import { privateRedis } from '../helpers/jobs.ts';
import { Newcomer, type SeenEvent, startSynapse, unrefSdkRequestTimers } from '../helpers/synapse.ts';

unrefSdkRequestTimers();

const work = botWorkDir('digest');
const redis = await privateRedis();
const redisUrl = redis.url;
const synapse = await startSynapse();
const atom = readFileSync(new URL('../fixtures/feeds/list-v1.atom.xml', import.meta.url));
const feeds = createServer((_request, response) =>
  response.writeHead(200, { 'content-type': 'application/atom+xml' }).end(atom),
);
await new Promise<void>((resolve) => feeds.listen(0, '127.0.0.1', resolve));
const feedUrl = `http://127.0.0.1:${(feeds.address() as { port: number }).port}/list.atom`;

after(async () => {
  feeds.close();
  await redis.stop();
  await synapse.stop();
});

/** Asked in a DM: the digest may count it, never quote it. */
const PRIVATE_QUESTION = 'my employer’s driver at [RFL login](https://evil.example/phish) does not build';

const serve = (env: Record<string, string>) =>
  spawnBot(work, ['serve', '--no-worker'], { RFL_REDIS_URL: redisUrl, ...env });

const until = async (condition: () => boolean, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

test('killed after the lead, the restarted bot finishes the digest: every part once', async () => {
  const botUser = await synapse.register('rfl-digest');
  const alice = await Newcomer.start(synapse, await synapse.register('alice'));
  const passwordFile = join(work.dir, 'password');
  writeFileSync(passwordFile, botUser.password, { mode: 0o600 });
  const room = (await alice.client.createRoom({ preset: Preset.PublicChat, name: 'rust-news' })).room_id;
  await alice.client.invite(room, botUser.userId);
  const env = {
    RFL_MATRIX_HOMESERVER_URL: synapse.baseUrl,
    RFL_MATRIX_USER_ID: botUser.userId,
    RFL_MATRIX_PASSWORD_FILE: passwordFile,
    RFL_MATRIX_ALLOWLIST: JSON.stringify([alice.userId]),
    RFL_DIGEST_ENABLED: 'true',
    RFL_DIGEST_SCHEDULE: '*/2 * * * * *',
    RFL_DIGEST_TARGETS: JSON.stringify([{ platform: 'matrix', room }]),
    RFL_DIGEST_FEEDS: JSON.stringify([{ url: feedUrl, name: 'rust-for-linux list' }]),
    // Approval (on by default) has its own test below.
    RFL_DIGEST_APPROVAL: 'false',
  };

  // Last week, as the activity log has it.
  const connection = new Redis(redisUrl);
  const activity = new RedisActivityLog(connection, { key: 'rfl:activity', retentionDays: 90 });
  const week = reportedWeek(Date.now());
  const asked: [string, 'public' | 'private'][] = [
    ['which rustc does 6.1 need?', 'public'],
    ['how do I enable CONFIG_RUST?', 'public'],
    [PRIVATE_QUESTION, 'private'],
  ];
  for (const [n, [question, where]] of asked.entries())
    await activity.record({
      type: 'question',
      at: week.start + (n + 1) * 3_600_000,
      platform: 'matrix',
      asker: 'someone',
      question,
      private: where === 'private',
      answered: n === 0,
      confidence: 0.6,
      kernelVersion: '6.1.50',
      passages: [{ title: 'Quick Start › rustc', url: 'https://docs.example/quick-start' }],
    });
  connection.disconnect();
  let first = serve(env);

  const digestEvents = () =>
    alice.seen.filter(
      (e: SeenEvent) => e.roomId === room && e.sender === botUser.userId && e.type === 'm.room.message',
    );
  try {
    await until(() => /"msg":"digest: lead posted"/.test(first.stderr()), 90_000, 'the lead');
    first.child.kill('SIGKILL');
    await first.exited;
    const second = serve(env);
    first = second;
    await until(() => /"step":"chart".*"msg":"digest: posted"/.test(second.stderr()), 90_000, 'the rest');
    await new Promise((resolve) => setTimeout(resolve, 5_000)); // more ticks: nothing more may come
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.stderr().slice(-2000));
  } finally {
    first.child.kill('SIGKILL');
    alice.stop();
  }

  const posted = digestEvents();
  const leads = posted.filter((e) => String(e.content.body).startsWith('📰'));
  assert.equal(leads.length, 1, 'one lead');
  assert.match(String(leads[0]!.content.body), /3 questions \(2 unanswered\)/);
  const gaps = posted.find((e) => String(e.content.body).startsWith('Docs gaps'));
  assert.match(String(gaps?.content.body), /“how do I enable CONFIG_RUST\?”/);
  assert.match(String(gaps?.content.body), /1 more asked in direct messages: counted, not quoted\./);
  assert.ok(
    posted.every((e) => !JSON.stringify(e.content).includes('evil.example')),
    'the DM question is not quoted',
  );
  const inThread = posted.filter(
    (e) =>
      (e.content['m.relates_to'] as { rel_type?: string; event_id?: string } | undefined)?.event_id ===
      leads[0]!.id,
  );
  const bodies = inThread.map((e) => String(e.content.body).split('\n')[0]);
  assert.equal(new Set(bodies).size, bodies.length, `nothing twice: ${bodies.join(' | ')}`);
  assert.ok(bodies.includes('Most asked about:'));
  assert.ok(bodies.some((body) => body?.startsWith('Docs gaps')));
  assert.ok(bodies.includes('New on the feeds:'));
  assert.equal(inThread.filter((e) => e.content.msgtype === 'm.image').length, 1, 'the chart, once');
  assert.equal(posted.length, 1 + inThread.length, 'everything else is in the thread');
});

test('with approval on, the digest waits in the admin room until an admin reacts ✅', async () => {
  const botUser = await synapse.register('rfl-approve');
  const admin = await Newcomer.start(synapse, await synapse.register('admin'));
  const passwordFile = join(work.dir, 'password-approve');
  writeFileSync(passwordFile, botUser.password, { mode: 0o600 });
  const adminRoom = (await admin.client.createRoom({ preset: Preset.PrivateChat, name: 'admins' })).room_id;
  const news = (await admin.client.createRoom({ preset: Preset.PublicChat, name: 'news' })).room_id;
  for (const roomId of [adminRoom, news]) await admin.client.invite(roomId, botUser.userId);
  const bot = serve({
    RFL_MATRIX_HOMESERVER_URL: synapse.baseUrl,
    RFL_MATRIX_USER_ID: botUser.userId,
    RFL_MATRIX_PASSWORD_FILE: passwordFile,
    RFL_MATRIX_ALLOWLIST: JSON.stringify([admin.userId]),
    RFL_DIGEST_ENABLED: 'true',
    RFL_DIGEST_SCHEDULE: '*/2 * * * * *',
    RFL_DIGEST_TARGETS: JSON.stringify([{ platform: 'matrix', room: news }]),
    RFL_DIGEST_ADMIN_ROOMS: JSON.stringify([{ platform: 'matrix', room: adminRoom }]),
    RFL_CHAT_ADMINS: JSON.stringify([admin.userId]),
    RFL_DIGEST_APPROVAL: 'true',
  });
  const fromBot = (roomId: string) =>
    admin.seen.filter(
      (e) => e.roomId === roomId && e.sender === botUser.userId && e.type === 'm.room.message',
    );
  try {
    const request = await admin.waitFor(
      (e) => e.roomId === adminRoom && e.sender === botUser.userId && String(e.content.body).startsWith('📰'),
      90_000,
      'the approval request',
    );
    assert.match(String(request.content.body), /reacting ✅ to this message sends it/);
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // ticks pass: nothing goes out unapproved
    assert.equal(fromBot(news).length, 0);
    await admin.client.sendEvent(adminRoom, null, EventType.Reaction, {
      'm.relates_to': { rel_type: RelationType.Annotation, event_id: request.id, key: '✅' },
    });
    await admin.waitFor(
      (e) => e.roomId === news && e.sender === botUser.userId && String(e.content.body).startsWith('📰'),
      60_000,
      'the digest in the news room',
    );
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    assert.equal(fromBot(news).filter((e) => String(e.content.body).startsWith('📰')).length, 1);
    assert.equal(
      fromBot(adminRoom).filter((e) => String(e.content.body).startsWith('📰')).length,
      1,
      'asked once',
    );
  } finally {
    bot.child.kill('SIGTERM');
    await bot.exited;
    admin.stop();
  }
});

/**
 * Jobs in a Matrix room, as a newcomer runs them: a `!build` with a code block against the real
 * prepared 6.1 tree (one progress message edited as the job moves, then the result in the thread),
 * `!log` with the whole log as a file, a homeserver restart in the middle of a boot job, and the bot
 * itself restarting while a job runs or after it finished: the result is owed, and arrives once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { Preset } from 'matrix-js-sdk';
import { type MatrixBot, startMatrixBot } from '../../bot/adapters/matrix/bot.ts';
import { RedisChatLedger } from '../../bot/dispatch/chat-ledger.ts';
import { createDispatcher } from '../../bot/dispatch/dispatcher.ts';
import { createRouter } from '../../bot/dispatch/router.ts';
import type { JobQueue, QueueLocation } from '../../jobs/queue/queue.ts';
import type { KnowledgeService } from '../../knowledge/answer-types.ts';
import {
  GOOD_MODULE,
  log,
  openQueue,
  privateRedis,
  slowModule,
  startWorker,
  testConfig,
  uniqueLocation,
} from '../helpers/jobs.ts';
import { preparedTree } from '../helpers/prepared-tree.ts';
import {
  Newcomer,
  type RegisteredUser,
  type SeenEvent,
  type Synapse,
  startSynapse,
  unrefSdkRequestTimers,
} from '../helpers/synapse.ts';

unrefSdkRequestTimers();

const knowledge: KnowledgeService = {
  ask: async () => {
    throw new Error('no questions in this file');
  },
  faq: () => [],
  kernelVersions: () => ['6.1.192'],
};
const config = testConfig({ perUserConcurrent: 10 });

let redis: Awaited<ReturnType<typeof privateRedis>>;
let location: QueueLocation;
let synapse: Synapse;
let botUser: RegisteredUser;
let alice: Newcomer;
let room: string;
const stateDir = mkdtempSync(join(tmpdir(), 'rfl-matrix-jobs-'));
let stopWorker: () => Promise<void>;

/** One bot process: its own connection to the queue and to Matrix; the ledger is the shared Redis. */
interface BotProcess {
  bot: MatrixBot;
  queue: JobQueue;
  stop(): Promise<void>;
}
let current: BotProcess;

async function startBotProcess(): Promise<BotProcess> {
  const queue = await openQueue(location, config);
  const ledgerRedis = new Redis(redis.url);
  const router = createRouter({
    knowledge,
    chat: { commandPrefix: '!', botName: 'rfl-onboard' },
    log,
    jobs: { queue, limits: config.jobs },
  });
  const dispatcher = createDispatcher({
    router,
    ledger: new RedisChatLedger(ledgerRedis, `rfltest:chat:${process.pid}`),
    platform: 'matrix',
    userMessagesPerMinute: 100,
    editWindowMs: 300_000,
    log,
    jobs: queue,
  });
  const started = await startMatrixBot({
    homeserverUrl: synapse.baseUrl,
    userId: botUser.userId,
    password: botUser.password,
    stateDir,
    allowlist: [alice.userId],
    dispatcher,
    log,
  });
  assert.ok(started.ok);
  const bot = started.value;
  return {
    bot,
    queue,
    async stop() {
      await bot.stop();
      await queue.close();
      ledgerRedis.disconnect();
    },
  };
}

before(async () => {
  await preparedTree();
  redis = await privateRedis();
  location = uniqueLocation(redis.url);
  const worker = await startWorker(location, config);
  stopWorker = () => worker.stop(0);
  synapse = await startSynapse();
  botUser = await synapse.register('rfl-jobs');
  alice = await Newcomer.start(synapse, await synapse.register('alice'));
  current = await startBotProcess();
  const bot = current.bot;
  room = (await alice.client.createRoom({ preset: Preset.PublicChat, invite: [bot.userId] })).room_id;
  // Three people: a room (answers go in threads), not a DM.
  const bob = await synapse.register('bob');
  await fetch(`${synapse.baseUrl}/_matrix/client/v3/join/${encodeURIComponent(room)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bob.accessToken}`, 'content-type': 'application/json' },
    body: '{}',
  });
  await alice.waitFor(
    (e) =>
      e.roomId === room &&
      e.type === 'm.room.member' &&
      e.stateKey === bot.userId &&
      e.content.membership === 'join',
    30_000,
    'the bot to join',
  );
  await alice.waitFor(
    (e) => e.roomId === room && e.type === 'm.room.member' && e.stateKey === '@bob:localhost',
    30_000,
    'bob to join',
  );
});

after(async () => {
  alice?.stop();
  await current?.stop();
  await stopWorker?.();
  await redis?.stop();
  await synapse?.stop();
});

type Relation = { rel_type?: string; event_id?: string; 'm.in_reply_to'?: { event_id: string } };
const relation = (event: SeenEvent) => (event.content['m.relates_to'] ?? {}) as Relation;
const fromBot = (event: SeenEvent) => event.sender === botUser.userId && event.type === 'm.room.message';

/** The bot's first message in reply to `question` (the job's progress message). */
const firstReply = (question: string) =>
  alice.waitFor(
    (e) => fromBot(e) && relation(e)['m.in_reply_to']?.event_id === question,
    60_000,
    'the progress message',
  );

/** Every text the progress message showed, the original and its edits in order. */
function versions(messageId: string): string[] {
  const original = alice.seen.find((e) => e.id === messageId);
  const edits = alice.seen.filter(
    (e) => fromBot(e) && relation(e).rel_type === 'm.replace' && relation(e).event_id === messageId,
  );
  return [original, ...edits].map((e) =>
    String(((e?.content['m.new_content'] as Record<string, unknown> | undefined) ?? e?.content)?.body ?? ''),
  );
}

/** The result: the bot's message in the thread that starts with ✅ or ❌. */
const resultIn = (thread: string, timeoutMs = 120_000) =>
  alice.waitFor(
    (e) =>
      fromBot(e) &&
      relation(e).event_id === thread &&
      relation(e).rel_type === 'm.thread' &&
      /^[✅❌]/u.test(String(e.content.body)),
    timeoutMs,
    'the job result',
  );

const build = (code: string, options = '') => `!build${options}\n\`\`\`rust\n${code}\n\`\`\``;

test('!build with a code block: one progress message edited to done, then the result in the thread', async () => {
  const question = await alice.say(room, { msgtype: 'm.text', body: build(GOOD_MODULE) });
  const progress = await firstReply(question);
  const result = await resultIn(question);
  assert.match(String(result.content.body), /^✅ built hello\.ko — Linux 6\.1\.\d+, rustc 1\.63/);
  for (
    let waited = 0;
    !versions(progress.id).some((text) => /done in/.test(text)) && waited < 30_000;
    waited += 100
  )
    await new Promise((resolve) => setTimeout(resolve, 100));
  const shown = versions(progress.id);
  assert.match(shown[0]!, /^\[job \w+\] (queued|building)/);
  assert.match(shown.at(-1)!, /done in/);
  const replies = alice.seen.filter(
    (e) =>
      fromBot(e) &&
      relation(e)['m.in_reply_to']?.event_id === question &&
      relation(e).rel_type !== 'm.replace',
  );
  assert.deepEqual(
    replies.map((e) => e.id),
    [progress.id, result.id],
    'one progress message, edited, then the result',
  );
});

test('!log sends the whole log as a file in the thread', async () => {
  // Twenty unused variables: a log of well over the 40 lines shown in chat.
  const unused = Array.from({ length: 20 }, (_, n) => `let unused_${n} = ${n};`).join('\n        ');
  const noisy = GOOD_MODULE.replace('pr_info!("Hello', `${unused}\n        pr_info!("Hello`);
  const question = await alice.say(room, { msgtype: 'm.text', body: build(noisy) });
  const result = await resultIn(question);
  assert.match(String(result.content.body), /^✅ built hello\.ko/);
  assert.match(String(result.content.body), /20 warnings/);
  const jobId = /\[job (\w+)\]/.exec(versions((await firstReply(question)).id)[0]!)?.[1];
  assert.ok(jobId);
  const ask = await alice.say(room, { msgtype: 'm.text', body: `!log ${jobId}` });
  const file = await alice.waitFor(
    (e) => fromBot(e) && e.content.msgtype === 'm.file' && String(e.content.body) === `job-${jobId}.log`,
    30_000,
    'the log file',
  );
  assert.equal(relation(file).rel_type, 'm.thread');
  assert.equal(relation(file).event_id, ask);
  const [server, mediaId] = String(file.content.url).replace('mxc://', '').split('/');
  const download = await fetch(`${synapse.baseUrl}/_matrix/client/v1/media/download/${server}/${mediaId}`, {
    headers: { authorization: `Bearer ${alice.client.getAccessToken()}` },
  });
  const text = await download.text();
  assert.equal(text.match(/warning: unused variable/g)?.length, 20, 'every warning, not just the tail');
  assert.equal(text, (await current.queue.result(jobId))?.fullLog.trimEnd().concat('\n'));
});

test('a homeserver restart in the middle of a boot job: the result still arrives, once', async () => {
  const question = await alice.say(room, {
    msgtype: 'm.text',
    body: build(`${GOOD_MODULE}\n// restart`, ' --boot'),
  });
  await firstReply(question);
  await synapse.pause();
  // Long enough for the job to move on (its progress edits queue up against the absent homeserver).
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  await synapse.resume();
  const result = await resultIn(question, 180_000);
  assert.match(String(result.content.body), /^✅ built hello\.ko, loaded and unloaded cleanly/);
  assert.match(String(result.content.body), /hello: Rust minimal sample|Hello/);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const results = alice.seen.filter(
    (e) => fromBot(e) && relation(e).event_id === question && /^[✅❌]/u.test(String(e.content.body)),
  );
  assert.equal(results.length, 1, 'exactly one result');
});

/** The results in the thread of `question`, as Alice has seen them so far. */
const resultsFor = (question: string) =>
  alice.seen.filter(
    (e) => fromBot(e) && relation(e).event_id === question && /^[✅❌]/u.test(String(e.content.body)),
  );

test('the bot restarts while a job runs: the restarted bot delivers its result, once', async () => {
  const question = await alice.say(room, {
    msgtype: 'm.text',
    body: build(slowModule('bot restart, running')),
  });
  const progress = await firstReply(question);
  await current.stop();
  current = await startBotProcess();
  const result = await resultIn(question, 120_000);
  assert.match(String(result.content.body), /^✅ built hello\.ko/);
  for (
    let waited = 0;
    !versions(progress.id).some((text) => /done in/.test(text)) && waited < 10_000;
    waited += 100
  )
    await new Promise((resolve) => setTimeout(resolve, 100));
  assert.match(versions(progress.id).at(-1)!, /done in/, 'the old progress message is finished too');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(resultsFor(question).length, 1);
});

test('a job finishes while the bot is down: its result is sent when the bot is back, once', async () => {
  const question = await alice.say(room, {
    msgtype: 'm.text',
    body: build(`${GOOD_MODULE}\n// finished while away`),
  });
  const progress = await firstReply(question);
  const jobId = /\[job (\w+)\]/.exec(versions(progress.id)[0]!)?.[1] ?? '';
  await current.stop();
  const queue = await openQueue(location, config);
  try {
    for (let waited = 0; !(await queue.result(jobId)) && waited < 60_000; waited += 200)
      await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(await queue.result(jobId), 'the job finished while the bot was away');
  } finally {
    await queue.close();
  }
  assert.equal(resultsFor(question).length, 0);
  current = await startBotProcess();
  assert.match(String((await resultIn(question, 60_000)).content.body), /^✅ built hello\.ko/);
  // A third start owes nothing any more.
  await current.stop();
  current = await startBotProcess();
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  assert.equal(resultsFor(question).length, 1);
});

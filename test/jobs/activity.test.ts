/**
 * The activity log the digest reads, on a real Redis: questions asked through the router (answered or
 * not, with their passages), feedback through the dispatcher, and jobs finished by a real worker —
 * kept across a restart, trimmed to the retention period, and never naming a user.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { MemoryChatLedger } from '../../bot/dispatch/chat-ledger.ts';
import { createDispatcher } from '../../bot/dispatch/dispatcher.ts';
import { createRouter } from '../../bot/dispatch/router.ts';
import { type ActivityEvent, activityKey, RedisActivityLog } from '../../jobs/activity.ts';
import type { Answer, KnowledgeService } from '../../knowledge/answer-types.ts';
import type { Passage } from '../../knowledge/passage.ts';
import {
  buildRequest,
  GOOD_MODULE,
  log,
  openQueue,
  origin,
  privateRedis,
  Recorder,
  startWorker,
  testConfig,
  uniqueLocation,
} from '../helpers/jobs.ts';
import { preparedTree } from '../helpers/prepared-tree.ts';

let redis: Awaited<ReturnType<typeof privateRedis>>;
let client: Redis;
let logs = 0;

before(async () => {
  redis = await privateRedis();
  client = new Redis(redis.url);
});
after(async () => {
  client.disconnect();
  await redis.stop();
});

const freshLog = (retentionDays = 90) =>
  new RedisActivityLog(client, { key: `rfltest:activity:${++logs}`, retentionDays });

const passage = (title: string): Passage =>
  ({
    id: title,
    sectionPath: ['Quick Start', title],
    url: `https://www.kernel.org/doc/html/v6.1/rust/quick-start.html#${title.toLowerCase()}`,
    kernelVersion: '6.1.192',
  }) as Passage;

/** Answers questions about bindgen, greets a greeting, abstains on everything else. */
const knowledge: KnowledgeService = {
  async ask(question) {
    const known = /bindgen/.test(question);
    return {
      kind: /^hello/.test(question) ? 'smalltalk' : known ? 'answer' : 'abstain',
      lead: known ? 'bindgen 0.56.0.' : 'I don’t know that one.',
      details: [],
      citations: [],
      kernelVersion: '6.1.192',
      confidence: known ? 0.9 : 0.05,
      passages: [passage(known ? 'Bindgen' : 'Requirements')],
      via: 'extractive',
    } satisfies Answer;
  },
  faq: () => [],
  kernelVersions: () => ['6.1.192'],
};

const message = (id: string, text: string, userId = '@alice:localhost') => ({
  id,
  conversation: { roomId: '!room:localhost', threadId: id },
  author: { id: userId, name: userId },
  text,
  isDirect: true,
  mentionsBot: false,
  attachments: [],
});

/**
 * A Matrix-like chat through the dispatcher, recording to `activity` (the dispatcher always; the router,
 * which records questions, when asked), and the ids of the messages the bot sent.
 */
function matrixChat(activity: RedisActivityLog, options: { routerRecords: boolean }) {
  const router = createRouter({
    knowledge,
    chat: { commandPrefix: '!', botName: 'rfl-onboard' },
    log,
    ...(options.routerRecords ? { activity } : {}),
  });
  const dispatcher = createDispatcher({
    router,
    ledger: new MemoryChatLedger(),
    platform: 'matrix',
    userMessagesPerMinute: 100,
    editWindowMs: 60_000,
    log,
    activity,
  });
  const sent: string[] = [];
  const surface = {
    platform: 'matrix' as const,
    sender: {
      send: async (to: { roomId: string }) => {
        sent.push(`$bot${sent.length}`);
        return { conversation: to, messageId: sent.at(-1)! };
      },
      edit: async () => {},
    },
    track: () => {},
  };
  return { dispatcher, sent, surface };
}

test('questions are recorded answered or not, with their passages, under a pseudonym', async () => {
  const activity = freshLog();
  const router = createRouter({
    knowledge,
    chat: { commandPrefix: '!', botName: 'rfl-onboard' },
    log,
    activity,
  });
  await router.handle(message('$1', 'which bindgen does 6.1 need?'));
  await router.handle(message('$2', 'how do I write a GPU driver in Rust?'));
  await router.handle(message('$3', 'hello!'));
  const events = await activity.between(0, Date.now() + 1);
  const questions = events.filter(
    (e): e is Extract<ActivityEvent, { type: 'question' }> => e.type === 'question',
  );
  assert.deepEqual(
    questions.map((q) => [q.question, q.answered, q.passages[0]?.title]),
    [
      ['which bindgen does 6.1 need?', true, 'Quick Start › Bindgen'],
      ['how do I write a GPU driver in Rust?', false, 'Quick Start › Requirements'],
    ],
  );
  assert.equal(questions[0]!.asker, questions[1]!.asker, 'the same user, the same pseudonym');
  assert.ok(!JSON.stringify(events).includes('alice'), 'nobody is named');
  // Another bot instance on the same Redis reads the same log and hashes alike.
  const otherConnection = new Redis(redis.url);
  try {
    const again = new RedisActivityLog(otherConnection, {
      key: `rfltest:activity:${logs}`,
      retentionDays: 90,
    });
    assert.equal((await again.between(0, Date.now() + 1)).length, 2);
    assert.equal(await again.pseudonym('terminal', '@alice:localhost'), questions[0]!.asker);
  } finally {
    otherConnection.disconnect();
  }
});

test('feedback is recorded with the question and sources it is about', async () => {
  const activity = freshLog();
  const { dispatcher, sent, surface } = matrixChat(activity, { routerRecords: false });
  await dispatcher.message(message('$q', '!ask which bindgen does 6.1 need?'), surface);
  await dispatcher.feedback(sent[0]!, '@bob:localhost', 'down');
  await dispatcher.feedback(sent[0]!, '@bob:localhost', 'down');
  const [feedback, ...more] = await activity.between(0, Date.now() + 1);
  assert.equal(more.length, 0, 'the same rating twice is recorded once');
  assert.equal(feedback?.type, 'feedback');
  assert.equal(feedback?.type === 'feedback' && feedback.rating, 'down');
  assert.equal(feedback?.type === 'feedback' && feedback.question, '!ask which bindgen does 6.1 need?');
});

test('whether a question was asked in private is recorded, for its feedback too', async () => {
  const activity = freshLog();
  const { dispatcher, sent, surface } = matrixChat(activity, { routerRecords: true });
  await dispatcher.message(message('$dm', '!ask which bindgen in my DM?'), surface);
  await dispatcher.message(
    { ...message('$room', '!ask which bindgen in the room?'), isDirect: false },
    surface,
  );
  await dispatcher.feedback(sent[0]!, '@bob:localhost', 'down');
  const recorded = (await activity.between(0, Date.now() + 1)).map((event) =>
    event.type === 'job' ? null : [event.type, event.question, event.private],
  );
  assert.deepEqual(recorded, [
    ['question', 'which bindgen in my DM?', true],
    ['question', 'which bindgen in the room?', false],
    ['feedback', '!ask which bindgen in my DM?', true],
  ]);
});

test('events older than the retention period are dropped', async () => {
  const activity = freshLog(1);
  const key = `rfltest:activity:${logs}`;
  const twoDaysAgo = Date.now() - 2 * 24 * 3600 * 1000;
  const old = { type: 'job', at: twoDaysAgo, jobId: 'old', kind: 'build', boot: false, outcome: 'success' };
  await client.xadd(
    key,
    `${twoDaysAgo}-0`,
    'event',
    JSON.stringify({ ...old, durationMs: 1, kernelVersion: null }),
  );
  assert.equal((await activity.between(0, Date.now() + 1)).length, 1);
  await activity.record({ ...old, jobId: 'new', at: Date.now() } as ActivityEvent);
  assert.deepEqual(
    (await activity.between(0, Date.now() + 1)).map((e) => e.type === 'job' && e.jobId),
    ['new'],
  );
});

test('a worker records every finished job with its outcome', async () => {
  await preparedTree();
  const location = uniqueLocation(redis.url);
  const config = testConfig();
  const queue = await openQueue(location, config);
  const worker = await startWorker(location, config);
  try {
    const recorder = new Recorder();
    await queue.submit(buildRequest(GOOD_MODULE), origin(), recorder);
    const result = await recorder.finished;
    const activity = new RedisActivityLog(client, { key: activityKey(location), retentionDays: 90 });
    const jobs = (await activity.between(0, Date.now() + 1)).filter((e) => e.type === 'job');
    assert.equal(jobs.length, 1);
    assert.deepEqual(jobs[0] && { ...jobs[0], at: 0, durationMs: 0 }, {
      type: 'job',
      at: 0,
      jobId: result.jobId,
      kind: 'build',
      boot: false,
      outcome: 'success',
      durationMs: 0,
      kernelVersion: result.environment?.kernelVersion ?? null,
    });
  } finally {
    await worker.stop(0);
    await queue.close();
  }
});

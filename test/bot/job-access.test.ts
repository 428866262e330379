/**
 * Who gets what from the job queue, as users in shared rooms meet it: room limits per room (not per
 * thread), the queue-wide cap on waiting jobs, `!log` for a job's owner and admins only (a DM job's log
 * in that DM only), job ids that never clash, and `!digest preview` for admins. Real Redis and queue; the
 * worker runs a stand-in processor whose log repeats the code it was given, so whose log is whose shows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MessageRef } from '../../bot/chat/capabilities.ts';
import type { IncomingMessage } from '../../bot/chat/message.ts';
import { renderPlainText } from '../../bot/chat/render-text.ts';
import { type RichMessage, textMessage } from '../../bot/chat/rich-message.ts';
import type { DigestPreviews } from '../../bot/digest/previews.ts';
import { type ChatSurface, openReplyChannel } from '../../bot/dispatch/reply-channel.ts';
import { createRouter } from '../../bot/dispatch/router.ts';
import type { JobRequest, JobResult } from '../../jobs/contracts.ts';
import { startJobWorker } from '../../jobs/job-worker.ts';
import type { JobQueue, QueueLocation } from '../../jobs/queue/queue.ts';
import type { KnowledgeService } from '../../knowledge/answer-types.ts';
import { log, openQueue, privateRedis, Recorder, testConfig, uniqueLocation } from '../helpers/jobs.ts';

const knowledge: KnowledgeService = {
  ask: async () => {
    throw new Error('no questions here');
  },
  faq: () => [],
  kernelVersions: () => [],
};

const ADMIN = '@admin:example.org';
const PUBLIC = '!public:example.org';

let redis: Awaited<ReturnType<typeof privateRedis>>;
const closing: (() => Promise<void>)[] = [];

before(async () => {
  redis = await privateRedis();
});
after(async () => {
  for (const close of closing) await close();
  await redis.stop();
});

/** Builds nothing: "compiles" the code into a log that quotes it. */
async function fakeBuild(request: JobRequest, context: { jobId: string }): Promise<JobResult> {
  const code = request.kind === 'build' ? request.source : request.kind;
  return {
    jobId: context.jobId,
    outcome: 'success',
    environment: null,
    summary: `✅ built (${code})`,
    body: '',
    warnings: 0,
    errors: 0,
    fullLog: `compiling ${code}\nfinished`,
    durationMs: 1,
  };
}

async function setUp(
  jobs: Parameters<typeof testConfig>[0],
  options: { worker?: boolean; newJobId?: () => string } = {},
) {
  const config = testConfig(jobs);
  const location: QueueLocation = uniqueLocation(redis.url);
  const queue = await openQueue(location, config, options.newJobId ? { newJobId: options.newJobId } : {});
  closing.push(() => queue.close());
  if (options.worker) {
    const worker = await startJobWorker({
      ...location,
      concurrency: 1,
      resultTtlHours: config.jobs.resultTtlHours,
      process: fakeBuild,
      log,
    });
    closing.unshift(() => worker.close(0));
  }
  return { queue, config };
}

/** One chat platform (Matrix) with the bot on it: what each message got back, replies sent later included. */
function matrixChat(
  queue: JobQueue,
  config: ReturnType<typeof testConfig>,
  digest: DigestPreviews | null = null,
) {
  const work: Promise<unknown>[] = [];
  const sent: string[] = [];
  const surface: ChatSurface = {
    platform: 'matrix',
    sender: {
      send: async (to: IncomingMessage['conversation'], content: RichMessage): Promise<MessageRef> => {
        sent.push(renderPlainText(content));
        return { conversation: to, messageId: `sent-${sent.length}` };
      },
      edit: async () => {},
    },
    track: (promise) => work.push(promise),
  };
  const router = createRouter({
    knowledge,
    chat: { commandPrefix: '!', botName: 'rfl-onboard', admins: [ADMIN] },
    log,
    jobs: { queue, limits: config.jobs },
    digest,
  });
  let messages = 0;
  /** A top-level message (its own thread) in `room`, or a message in a DM when `direct`. */
  const say = async (user: string, text: string, room = PUBLIC, direct = false) => {
    const id = `$m${++messages}`;
    const before = sent.length;
    const incoming: IncomingMessage = {
      id,
      conversation: direct ? { roomId: room } : { roomId: room, threadId: id },
      author: { id: user, name: user },
      text,
      isDirect: direct,
      mentionsBot: false,
      attachments: [],
    };
    const reply = await router.handle(
      incoming,
      openReplyChannel(surface, { conversation: incoming.conversation, replyTo: incoming.id }).channel,
    );
    return reply ? renderPlainText(reply) : (sent[before] ?? '');
  };
  /** Every reply sent after the commands returned (job results), once the jobs are done. */
  const results = async () => {
    await Promise.all(work);
    return sent;
  };
  return { say, results };
}

const build = (code: string) => `!build\n\`\`\`rust\n${code}\n\`\`\``;
const jobIdOf = (text: string) => /\[job ([a-z2-9]{5})\]/.exec(text)?.[1] ?? '';

describe('limits', () => {
  test('three users in three threads of one room with one job per room: one queued, two told the room is busy', async () => {
    const { queue, config } = await setUp({ perRoomConcurrent: 1 });
    const { say } = matrixChat(queue, config);
    const replies = [
      await say('@alice:example.org', build('// alice')),
      await say('@bob:example.org', build('// bob')),
      await say('@carol:example.org', build('// carol')),
    ];
    assert.match(replies[0]!, /^\[job \w{5}\] queued \(position 1\)/);
    for (const refused of replies.slice(1))
      assert.equal(
        refused,
        'This room already has 1 job queued or running, the most it may have at once; try again when one finishes.',
      );
    assert.match(await say('@dave:example.org', build('// dave'), '!other:example.org'), /queued/);
  });

  test('past the queue-wide cap on waiting jobs, the next user hears how many wait and to come back later', async () => {
    const { queue, config } = await setUp({ maxWaiting: 2 });
    const { say } = matrixChat(queue, config);
    assert.match(await say('@alice:example.org', build('// a'), '!one:example.org'), /queued \(position 1\)/);
    assert.match(await say('@bob:example.org', build('// b'), '!two:example.org'), /queued \(position 2\)/);
    assert.equal(
      await say('@carol:example.org', build('// c'), '!three:example.org'),
      'I’m busy: 2 jobs are waiting for a free worker already, the most I queue at once. Please try again in a few minutes.',
    );
  });
});

describe('!log', () => {
  let chat: ReturnType<typeof matrixChat>;
  before(async () => {
    const { queue, config } = await setUp({}, { worker: true });
    chat = matrixChat(queue, config);
  });

  test('of a job in a public room: its owner and admins read it, anyone else is refused', async () => {
    const jobId = jobIdOf(await chat.say('@alice:example.org', build('// alice’s secret')));
    await chat.results();
    assert.equal(
      await chat.say('@bob:example.org', `!log ${jobId}`),
      `Job ${jobId} was started by someone else; only they (or an admin) can read its log.`,
    );
    assert.match(await chat.say('@alice:example.org', `!log ${jobId}`), /compiling \/\/ alice’s secret/);
    assert.match(await chat.say(ADMIN, `!log ${jobId}`), /compiling \/\/ alice’s secret/);
  });

  test('of a job started in a DM: only in that DM, not even for its owner (or an admin) in a public room', async () => {
    const dm = '!alice-dm:example.org';
    const jobId = jobIdOf(await chat.say('@alice:example.org', build('// from my DM'), dm, true));
    await chat.results();
    assert.equal(
      await chat.say('@alice:example.org', `!log ${jobId}`),
      `Job ${jobId} was started in a direct message; ask me for its log there, so it stays private.`,
    );
    for (const reader of [ADMIN, '@bob:example.org'])
      assert.equal(
        await chat.say(reader, `!log ${jobId}`),
        `Job ${jobId} was started by someone else in a direct message; its log stays there.`,
      );
    assert.match(
      await chat.say('@alice:example.org', `!log ${jobId}`, dm, true),
      /compiling \/\/ from my DM/,
    );
  });
});

describe('job ids', () => {
  test('a clashing id: the second job gets a new id and runs, and each user gets their own result and log', async () => {
    const ids = ['aaaaa', 'aaaaa', 'bbbbb'];
    const { queue, config } = await setUp({}, { worker: true, newJobId: () => ids.shift() ?? 'zzzzz' });
    const chat = matrixChat(queue, config);
    const alice = jobIdOf(await chat.say('@alice:example.org', build('// alice')));
    await chat.results();
    const bob = jobIdOf(await chat.say('@bob:example.org', build('// bob')));
    const results = await chat.results();
    assert.deepEqual([alice, bob], ['aaaaa', 'bbbbb']);
    assert.deepEqual(
      results.filter((text) => text.startsWith('✅')).map((text) => text.split('\n')[0]),
      ['✅ built (// alice)', '✅ built (// bob)'],
    );
    assert.match(await chat.say('@bob:example.org', '!log bbbbb'), /compiling \/\/ bob/);
  });

  test('a result is reused for its owner only, even when two platforms’ users share an id', async () => {
    const { queue } = await setUp({}, { worker: true });
    const request = { kind: 'check-config' as const, text: 'CONFIG_RUST=y', kernel: null };
    const on = (platform: 'matrix' | 'discord') =>
      ({ userId: '1234', platform, room: 'r', conversation: 'r/t', isDirect: false }) as const;
    const first = new Recorder();
    assert.ok((await queue.submit(request, on('matrix'), first)).ok);
    await first.finished;
    const other = await queue.submit(request, on('discord'), new Recorder());
    assert.ok(other.ok && other.status === 'queued', JSON.stringify(other));
  });
});

describe('!digest preview', () => {
  test('admins only, in the admin room or a DM; anyone else is refused even in the admin room', async () => {
    const { queue, config } = await setUp({});
    const digest: DigestPreviews = {
      preview: async () => textMessage('The week so far: 3 questions.'),
      isAdminRoom: (platform, room) => platform === 'matrix' && room === '!admins:example.org',
    };
    const { say } = matrixChat(queue, config, digest);
    assert.equal(
      await say('@bob:example.org', '!digest preview', '!admins:example.org'),
      'Digest previews are for the bot’s admins only.',
    );
    assert.equal(await say(ADMIN, '!digest preview', '!admins:example.org'), 'The week so far: 3 questions.');
    assert.equal(
      await say(ADMIN, '!digest preview', '!admin-dm:example.org', true),
      'The week so far: 3 questions.',
    );
    assert.equal(
      await say(ADMIN, '!digest preview'),
      'Digest previews are shown in the admin room or in a direct message only.',
    );
  });
});

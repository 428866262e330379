/**
 * Jobs on Zulip as a newcomer runs them, through the bot against the loopback fake Zulip with a real job
 * queue, worker and prepared 6.1 tree: `!build` with an uploaded .rs (Zulip's compose box links it as
 * `[hello.rs](/user_uploads/…)`), one progress message edited to done and the result in the same topic;
 * `!log` as an uploaded file for the job's owner and a Zulip admin (zulip:<id>) only; `!check-config`
 * with an uploaded .config; and oversized, binary or foreign uploads refused in words.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KnowledgeService } from '../../knowledge/answer-types.ts';
import { eventually } from '../helpers/fake-discord/bot.ts';
import { botUser, startZulipWithJobs, topicOf, type ZulipWithJobs } from '../helpers/fake-zulip/bot.ts';
import { GOOD_MODULE } from '../helpers/jobs.ts';

const knowledge: KnowledgeService = {
  ask: async () => {
    throw new Error('no questions in this file');
  },
  faq: () => [],
  kernelVersions: () => ['6.1.192'],
};
const alice = { user_id: 9, email: 'alice@zulip.test', full_name: 'Alice' };
const bob = { user_id: 12, email: 'bob@zulip.test', full_name: 'Bob' };
const admin = { user_id: 30, email: 'admin@zulip.test', full_name: 'Admin' };
const channel = 'rust-for-linux';

let env: ZulipWithJobs;

before(async () => {
  // Bob's Zulip id is 12: a Discord admin of that id is not him.
  env = await startZulipWithJobs({
    knowledge,
    channels: [channel],
    admins: [`zulip:${admin.user_id}`, '12'],
  });
});
after(() => env?.stop());

const fromBot = (topic: string) => topicOf(env.fake, channel, topic).fromBot();
const botMessages = (topic: string, count: number, timeoutMs?: number) =>
  topicOf(env.fake, channel, topic).replies(count, timeoutMs);
/** Until the bot has taken in every event so far (its next poll acknowledged them). */
const settle = () => eventually(async () => env.fake.caughtUp || undefined);
const resultIn = (topic: string) => topicOf(env.fake, channel, topic).result();
const contentOf = (message: Record<string, unknown> | undefined) => String(message?.content ?? '');

const upload = (name: string, data: string | Uint8Array) =>
  `[${name}](${env.fake.storeUpload(name, Buffer.from(data))})`;

test('!build with an uploaded .rs: one progress message edited to done, then the result in the topic', async () => {
  const topic = 'my first module';
  const source = GOOD_MODULE.replace('Hello from Rust', 'Hello from Zulip');
  const link = upload('hello.rs', source);
  env.fake.say(alice, `!build\n${link}`, { stream: channel, topic });
  const [progress] = await botMessages(topic, 1, 60_000);
  assert.match(contentOf(progress), /^\\\[job \w{5}\\\] (queued|building)/);
  const result = await resultIn(topic);
  assert.match(contentOf(result), /^✅ built hello\.ko — Linux 6\.1\.\d+, rustc 1\.63/);
  await eventually(
    async () => /done in/.test(contentOf(env.fake.message(Number(progress!.id)))) || undefined,
  );
  assert.deepEqual(
    fromBot(topic).map((message) => message.id),
    [progress!.id, result!.id],
    'one progress message, edited, then the result',
  );
  const download = env.fake.requests.find(
    (request) => request.path === link.slice(link.indexOf('(') + 1, -1),
  );
  assert.equal(download?.status, 200, 'the upload was fetched from the bot’s own server');
});

/** A module of its own (the same source would reuse an earlier job's result). */
const sourceSaying = (words: string) => GOOD_MODULE.replace('Hello from Rust', `Hello from ${words}`);
const moderator = { user_id: 31, email: 'mod@zulip.test', full_name: 'Moderator' };
/** A bot message's text without the invisible marker a new message ends with. */
const textOf = (message: Record<string, unknown> | undefined) =>
  contentOf(message).replace(/\n[\u200b-\u200d\u2060]{32}$/, '');

test('!build whose topic is moved mid-job: the progress and the result follow it to the new topic', async () => {
  const from = 'building here';
  const to = 'builds, moved';
  let question = 0;
  let progress: Awaited<ReturnType<typeof botMessages>>[number] | undefined;
  await env.withJobsHeld(async () => {
    question = env.fake.say(alice, `!build\n${upload('moved.rs', sourceSaying('a moved topic'))}`, {
      stream: channel,
      topic: from,
    });
    [progress] = await botMessages(from, 1, 60_000);
    assert.deepEqual(env.fake.move(moderator, question, { topic: to }, 'change_all'), [
      question,
      progress!.id,
    ]);
    await settle();
  });
  const result = await resultIn(to);
  assert.match(contentOf(result), /^✅ built hello\.ko/);
  await eventually(
    async () => /done in/.test(contentOf(env.fake.message(Number(progress!.id)))) || undefined,
  );
  assert.deepEqual(
    fromBot(to).map((message) => message.id),
    [progress!.id, result!.id],
  );
  assert.deepEqual(fromBot(from), [], 'nothing more in the old topic');
});

test('!build whose question alone is moved to another channel mid-job: its progress and result go where the question now is', async () => {
  const from = 'asked in the wrong place';
  const to = { stream: 'builds', topic: 'hello module' };
  await env.withJobsHeld(async () => {
    const question = env.fake.say(alice, `!build\n${upload('alone.rs', sourceSaying('a moved question'))}`, {
      stream: channel,
      topic: from,
    });
    await botMessages(from, 1, 60_000);
    assert.deepEqual(env.fake.move(moderator, question, to, 'change_one'), [question]);
    await settle();
  });
  const result = await topicOf(env.fake, to.stream, to.topic).result();
  assert.match(contentOf(result), /^✅ built hello\.ko/);
  const there = topicOf(env.fake, to.stream, to.topic).fromBot().map(textOf);
  assert.match(there[0] ?? '', /^\\\[job \w{5}\\\] done in/, 'the progress, brought to the question');
  assert.equal(there.length, 2, 'the progress, then the result');
  await eventually(async () => (fromBot(from).length === 0 ? true : undefined));
});

test('with message editing turned off, a job posts its first state and its result, not a message per stage', async () => {
  env.fake.setEditing({ allowed: false, limitSeconds: null });
  try {
    // The bot learns the organisation's settings when it registers its event queue.
    const queues = env.fake.queueCount;
    env.fake.restart();
    await eventually(async () => (env.fake.queueCount > queues && env.bot.isConnected()) || undefined);
    const topic = 'no edits here';
    const patches = () => env.fake.requests.filter((request) => request.method === 'PATCH').length;
    const patchesBefore = patches();
    env.fake.say(alice, `!build\n${upload('still.rs', sourceSaying('no edits'))}`, {
      stream: channel,
      topic,
    });
    const result = await resultIn(topic);
    assert.match(contentOf(result), /^✅ built hello\.ko/);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const posted = fromBot(topic).map(textOf);
    assert.equal(posted.length, 2, `the first state and the result: ${JSON.stringify(posted)}`);
    assert.match(posted[0]!, /^\\\[job \w{5}\\\] (queued|building)/);
    assert.equal(patches(), patchesBefore, 'no edit was tried');
  } finally {
    env.fake.setEditing({ allowed: true, limitSeconds: 600 });
    const queues = env.fake.queueCount;
    env.fake.restart();
    await eventually(async () => (env.fake.queueCount > queues && env.bot.isConnected()) || undefined);
  }
});

test('!log comes as an uploaded file to the job’s owner and a Zulip admin; anyone else is refused', async () => {
  const topic = 'noisy module';
  const unused = Array.from({ length: 20 }, (_, n) => `let unused_${n} = ${n};`).join('\n        ');
  const noisy = GOOD_MODULE.replace('pr_info!("Hello', `${unused}\n        pr_info!("Hello`);
  env.fake.say(alice, `!build\n\`\`\`rust\n${noisy}\n\`\`\``, { stream: channel, topic });
  const [progress] = await botMessages(topic, 1, 60_000);
  const jobId = /job (\w{5})/.exec(contentOf(progress))?.[1];
  assert.ok(jobId);
  assert.match(contentOf(await resultIn(topic)), /20 warnings/);

  for (const [reader, where] of [
    [alice, 'alice reads'],
    [admin, 'the admin reads'],
    [bob, 'bob asks'],
  ] as const) {
    env.fake.say(reader, `!log ${jobId}`, { stream: channel, topic: where });
  }
  const [own] = await botMessages('alice reads', 1);
  const [admins] = await botMessages('the admin reads', 1);
  const [refused] = await botMessages('bob asks', 1);
  assert.match(
    contentOf(refused),
    /was started by someone else; only they \\\(or an admin\\\) can read its log/,
  );
  for (const reply of [own, admins]) {
    const file = new RegExp(`\\[job-${jobId}\\.log\\]\\((/user_uploads/[^)]+)\\)`).exec(contentOf(reply));
    assert.ok(file, contentOf(reply));
    const text = await (
      await fetch(new URL(file[1]!, env.fake.siteUrl), {
        headers: {
          authorization: `Basic ${Buffer.from(`${botUser.email}:${botUser.apiKey}`).toString('base64')}`,
        },
      })
    ).text();
    assert.equal(text.match(/warning: unused variable/g)?.length, 20, 'every warning, not just the tail');
  }
});

test('!check-config with an uploaded .config reads the file, not its link', async () => {
  const topic = 'config check';
  const link = upload('.config', 'CONFIG_MODULES=y\nCONFIG_MODVERSIONS=y\nCONFIG_RUST=y\n');
  env.fake.say(alice, `!check-config --kernel 6.1 ${link}`, { stream: channel, topic });
  const result = await resultIn(topic);
  assert.match(contentOf(result), /^❌ .* — Linux 6\.1\.\d+/);
  assert.match(contentOf(result), /MODVERSIONS \\\[=y\\\]/);
});

test('an oversized or binary upload, or a link to another server, gets a friendly refusal and no job', async () => {
  const submitted = await env.queue.depth();
  const start = env.fake.requests.length;
  const cases: [string, string, RegExp][] = [
    ['too big', `!build ${upload('big.rs', 'x'.repeat(9 * 1024))}`, /larger than 8 KiB/],
    [
      'binary',
      `!build ${upload('evil.rs', new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2]))}`,
      /looks like binary data, not a Rust source file/,
    ],
    [
      'elsewhere',
      '!build [hello.rs](https://evil.example/user_uploads/2/ab/hello.rs)',
      /I need the module’s code in a fenced block/,
    ],
    [
      'climbing out',
      '!build [me.rs](/user_uploads/../api/v1/users/me)',
      /only read files uploaded to this Zulip/,
    ],
  ];
  for (const [topic, text] of cases) env.fake.say(alice, text, { stream: channel, topic });
  for (const [topic, , expected] of cases) {
    const [reply] = await botMessages(topic, 1);
    assert.match(contentOf(reply), expected, topic);
  }
  const fetched = env.fake.requests.slice(start).filter((request) => request.method === 'GET');
  assert.ok(!fetched.some((request) => request.path === '/api/v1/users/me'), 'nothing but uploads fetched');
  assert.deepEqual(await env.queue.depth(), submitted, 'no job for any of them');
});

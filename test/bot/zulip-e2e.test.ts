/**
 * One conversation on Zulip from end to end, as a newcomer lives it, against the loopback fake Zulip with
 * the ledger in Redis and a real job queue, worker and prepared 6.1 tree: a question and its 👍, a
 * build, an edited and a deleted question, the bot restarting (nothing answered twice, what was asked
 * meanwhile answered), the Zulip server restarting mid-conversation (its event queues lost: no message
 * lost or answered twice, a job's result still arriving once), and the weekly digest posted once.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { reportedWeek } from '../../bot/digest/iso-week.ts';
import { DigestService } from '../../bot/digest/service.ts';
import { MemoryActivityLog } from '../../jobs/activity.ts';
import { fixtureKnowledge, log } from '../helpers/chat-fixture.ts';
import { eventually } from '../helpers/fake-discord/bot.ts';
import { startZulipWithJobs, topicOf, type ZulipWithJobs } from '../helpers/fake-zulip/bot.ts';
import { GOOD_MODULE, slowModule } from '../helpers/jobs.ts';

const alice = { user_id: 9, email: 'alice@zulip.test', full_name: 'Alice' };
const channel = 'rust-for-linux';
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const contentOf = (message: Record<string, unknown> | undefined) => String(message?.content ?? '');

let env: ZulipWithJobs;

before(async () => {
  env = await startZulipWithJobs({ knowledge: await fixtureKnowledge('zulip-e2e'), channels: [channel] });
});
after(() => env?.stop());

const topic = (name: string) => topicOf(env.fake, channel, name);

test('a question is answered in its topic and a 👍 on the answer is feedback', async () => {
  const here = topic('first question');
  here.say(alice, '!ask which bindgen does 6.1 need?');
  const [answer] = await here.replies(1);
  assert.match(contentOf(answer), /0\.56\.0/);
  await eventually(() => env.ledger.answer(`zulip:${answer!.id}`).then((found) => found ?? undefined));
  env.fake.react(alice, Number(answer!.id), '+1');
  const ratings = await eventually(async () => {
    const found = await env.ledger.ratings(`zulip:${answer!.id}`);
    return Object.keys(found).length > 0 ? found : undefined;
  });
  assert.deepEqual(ratings, { [String(alice.user_id)]: 'up' });
});

test('a build: one progress message edited to done, then the result', async () => {
  const here = topic('build');
  here.say(alice, `!build\n\`\`\`rust\n${GOOD_MODULE.replace('Hello from Rust', 'Hello, e2e')}\n\`\`\``);
  const [progress] = await here.replies(1, 60_000);
  const result = await here.result();
  assert.match(contentOf(result), /^✅ built hello\.ko/);
  await eventually(
    async () => /done in/.test(contentOf(env.fake.message(Number(progress!.id)))) || undefined,
  );
  assert.equal(here.fromBot().length, 2);
});

test('an edited question edits its answer; a deleted one takes its answer along', async () => {
  const here = topic('edit and delete');
  const question = here.say(alice, '!ask which bindgen does 6.1 need?');
  const [answer] = await here.replies(1);
  env.fake.edit(alice, question, '!ask where is CONFIG_RUST in menuconfig?');
  await eventually(async () =>
    /0\.56\.0/.test(contentOf(env.fake.message(Number(answer!.id)))) ? undefined : true,
  );
  assert.equal(here.fromBot().length, 1, 'edited, not sent again');
  env.fake.delete(question);
  await eventually(async () => (env.fake.message(Number(answer!.id)) ? undefined : true));
});

test('the bot restarts: what was asked meanwhile is answered, nothing twice', async () => {
  const here = topic('bot restart');
  here.say(alice, '!ask which bindgen does 6.1 need?');
  await here.replies(1);
  await env.restartBot(async () => {
    here.say(alice, '!ask which rustc does 6.1 need?');
  });
  const replies = await here.replies(2);
  await pause(1000);
  assert.equal(here.fromBot().length, 2, 'one answer each');
  assert.match(contentOf(replies[1]), /1\.62\.0/);
});

test('Zulip restarts mid-conversation: its queues are lost, yet every message is answered once and a running job’s result arrives once', async () => {
  const here = topic('server restart');
  here.say(alice, '!ask which bindgen does 6.1 need?');
  here.say(alice, `!build\n\`\`\`rust\n${slowModule('zulip restart')}\n\`\`\``);
  await here.replies(2, 60_000);
  const queuesBefore = env.fake.queueCount;

  env.fake.restart();
  // Asked while the bot has no queue: only GET /messages after the last one seen finds these.
  here.say(alice, '!ask which rustc does 6.1 need?');
  here.say(alice, '!ask where is CONFIG_RUST in menuconfig?');
  await eventually(async () => env.fake.queueCount > queuesBefore || undefined);
  here.say(alice, '!ask which bindgen does 6.1 need?');

  const result = await here.result();
  assert.match(contentOf(result), /^✅ built hello\.ko/);
  await here.replies(6);
  await pause(1500);
  const replies = here.fromBot().map(contentOf);
  assert.equal(
    replies.length,
    6,
    `two answers and a job before, three answers after: ${replies.join(' | ')}`,
  );
  assert.equal(replies.filter((reply) => /^✅/u.test(reply)).length, 1, 'the result once');
});

test('the weekly digest goes to its topic once, however often it runs', async () => {
  const activity = new MemoryActivityLog();
  const week = reportedWeek(Date.now());
  await activity.record({
    type: 'job',
    at: week.start + 3_600_000,
    jobId: 'abcde',
    kind: 'build',
    boot: false,
    outcome: 'success',
    durationMs: 4000,
    kernelVersion: '6.1.192',
  });
  const redis = new Redis(env.redisUrl);
  try {
    const news = { stream: 'news', topic: 'weekly digest' };
    const service = new DigestService({
      redis,
      namespace: 'rfltest:zulip-e2e-digest',
      redisUrl: env.redisUrl,
      activity,
      docs: () => [],
      feeds: [],
      feedTimeoutMs: 1000,
      targets: [{ platform: 'zulip', room: String(env.fake.streamId(news.stream)), topic: news.topic }],
      approval: { required: false, adminRooms: [], admins: [] },
      log,
    });
    assert.equal((await service.run({ zulip: env.bot.chat })).posted.length, 1);
    assert.equal((await service.run({ zulip: env.bot.chat })).skipped.length, 1);
    const posted = topicOf(env.fake, news.stream, news.topic).fromBot().map(contentOf);
    assert.equal(posted.filter((content) => content.startsWith('📰')).length, 1, posted.join(' | '));
    assert.ok(
      posted.some((content) => content.startsWith('Jobs:')),
      'the details in the same topic',
    );
  } finally {
    redis.disconnect();
  }
});

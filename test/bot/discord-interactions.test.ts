/**
 * Slash commands, buttons and attachments on Discord, with the real discord.js client against the fake.
 * The job queue is a recording stand-in: these tests are about what the adapter does with a job's
 * messages and files, not about builds (test/bot-jobs.test.ts runs real ones).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { JobQueueClient } from '../../bot/job-follow/chat-jobs.ts';
import { configSchema } from '../../config/schema.ts';
import type { JobRequest } from '../../jobs/contracts.ts';
import { newJobId } from '../../jobs/queue/job-id.ts';
import type { JobWatcher } from '../../jobs/queue/queue.ts';
import { type BotOnFake, discordKnowledge, eventually, startBotOnFake } from '../helpers/fake-discord/bot.ts';
import type { RecordedRequest } from '../helpers/fake-discord/index.ts';
import type { UserObject } from '../helpers/fake-discord/objects.ts';

class RecordingQueue implements JobQueueClient {
  readonly submitted: { request: JobRequest; userId: string; watcher: JobWatcher }[] = [];
  readonly cancelled: { jobId: string; userId: string }[] = [];

  async submit(request: JobRequest, origin: { userId: string }, watcher: JobWatcher) {
    this.submitted.push({ request, userId: origin.userId, watcher });
    return { ok: true, status: 'queued', jobId: newJobId(), position: 1 } as const;
  }

  async cancel(jobId: string, userId: string) {
    this.cancelled.push({ jobId, userId });
    return `Job ${jobId} cancelled.`;
  }

  async result() {
    return null;
  }

  async origin() {
    return null;
  }

  async follow() {
    return 'following' as const;
  }
}

const queue = new RecordingQueue();
const limits = { ...configSchema.parse({}).jobs, maxSourceKb: 4 };
let env: BotOnFake;

before(async () => {
  env = await startBotOnFake(await discordKnowledge(), { router: { jobs: { queue, limits } } });
});
after(() => env.stop());

/** One person throughout: a Retry is hers only if she is the one who asked. */
let aliceUser: UserObject | undefined;
const alice = () => (aliceUser ??= env.fake.user('alice'));
/** An edit of the interaction's response, by its alias or (for later edits) by its id. */
const ORIGINAL = /^\/webhooks\/\d+\/[^/]+\/messages\/(@original|\d+)$/;

/** The request that edited the interaction's original response, waiting for one matching `test`. */
function originalEdit(start: number, test: (request: RecordedRequest) => boolean = () => true) {
  return env.fake.waitForRequest('PATCH', ORIGINAL, { after: start, test });
}

test('the slash commands are registered in the configured guild', () => {
  const commands = env.fake.commands.get(env.fake.guildId) ?? [];
  assert.deepEqual(
    commands.map((command) => command.name),
    ['ask', 'build', 'check-config'],
  );
  const build = commands.find((command) => command.name === 'build');
  const options = build?.options as { name: string; type: number }[];
  assert.deepEqual(
    options.map((option) => [option.name, option.type]),
    [
      ['file', 11],
      ['code', 3],
      ['boot', 5],
      ['kernel', 3],
    ],
  );
});

test('/ask is acknowledged within 3 s and answered by editing the deferred reply', async () => {
  const start = env.fake.requests.length;
  const id = env.fake.slashCommand(env.fake.channel.id, alice(), 'ask', [
    { name: 'question', value: 'which rustc does 6.1 need?' },
  ]);
  const answer = await originalEdit(start);
  const callback = env.fake.requests.slice(start).find((r) => r.path.endsWith('/callback'));
  assert.equal(callback?.body?.type, 5, 'a deferred response');
  const interaction = env.fake.interaction(id)!;
  assert.ok(interaction.acknowledgedAt! - interaction.createdAt < 3000);
  assert.match(String(answer.body?.content), /1\.62\.0/);
  assert.deepEqual(answer.body?.allowed_mentions, { parse: [], replied_user: false });
  const original = env.fake.message(interaction.originalMessageId!)!;
  assert.equal(original.flags & (1 << 7), 0, 'no longer “thinking”');
});

test('a 👍 button press is acknowledged privately and reported as feedback', async () => {
  const start = env.fake.requests.length;
  const id = env.fake.slashCommand(env.fake.channel.id, alice(), 'ask', [
    { name: 'question', value: 'which bindgen does 6.6 need?' },
  ]);
  await originalEdit(start);
  const answerId = env.fake.interaction(id)!.originalMessageId!;
  const buttons = env.fake.message(answerId)!.components as { components: { custom_id: string }[] }[];
  const up = buttons[0]!.components.find((b) => b.custom_id.includes('up'))!;
  const dave = env.fake.user('dave');
  const press = env.fake.pressButton(answerId, dave, up.custom_id);
  const ack = await env.fake.waitForRequest('POST', new RegExp(`^/interactions/${press}/`));
  assert.equal(ack.body?.type, 4);
  const data = (ack.body?.data ?? {}) as { flags?: number };
  assert.equal(Number(data.flags) & (1 << 6), 1 << 6, 'ephemeral');
  const ratings = await eventually(async () => {
    const found = await env.ledger.ratings(`discord:${answerId}`);
    return Object.keys(found).length > 0 ? found : undefined;
  });
  assert.deepEqual(ratings, { [dave.id]: 'up' });
});

test('Retry asks the question of the message again', async () => {
  const question = env.fake.say(env.fake.channel.id, alice(), '!ask which rustc does 6.6 need?');
  await env.fake.waitFor(() => env.fake.messagesIn(question.id)[0]);
  const answer = env.fake.messagesIn(question.id)[0]!;
  const buttons = answer.components as { components: { custom_id: string }[] }[];
  const retry = buttons[0]!.components.find((b) => b.custom_id.startsWith('rfl:retry:'))!;
  assert.equal(retry.custom_id, `rfl:retry:${env.fake.channel.id}:${question.id}`);
  const start = env.fake.requests.length;
  env.fake.pressButton(answer.id, alice(), retry.custom_id);
  const again = await originalEdit(start);
  assert.match(String(again.body?.content), /1\.73\.0/);
});

test('Retry pressed by someone else is refused privately and runs nothing as the asker', async () => {
  const question = env.fake.say(env.fake.channel.id, alice(), '!ask which rustc does 6.1 need?');
  await env.fake.waitFor(() => env.fake.messagesIn(question.id)[0]);
  const answer = env.fake.messagesIn(question.id)[0]!;
  const buttons = answer.components as { components: { custom_id: string }[] }[];
  const retry = buttons[0]!.components.find((b) => b.custom_id.startsWith('rfl:retry:'))!;
  const start = env.fake.requests.length;
  const press = env.fake.pressButton(answer.id, env.fake.user('mallory'), retry.custom_id);
  const ack = await env.fake.waitForRequest('POST', new RegExp(`^/interactions/${press}/`));
  assert.equal(ack.body?.type, 4, 'answered at once, not deferred');
  const data = (ack.body?.data ?? {}) as { flags?: number; content?: string };
  assert.equal(Number(data.flags) & (1 << 6), 1 << 6, 'ephemeral');
  assert.match(String(data.content), /Only the person who asked can retry this/);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const sentSince = env.fake.requests
    .slice(start)
    .filter((r) => r.method !== 'GET' && !r.path.startsWith(`/interactions/${press}/`));
  assert.deepEqual(sentSince, [], 'nothing answered or edited');
});

test('/build with an attached .rs fetches it, shows the job with a Cancel button that cancels it', async () => {
  const source = 'use kernel::prelude::*;\n// the module\n';
  const file = env.fake.upload(
    env.fake.channel.id,
    'hello.rs',
    new TextEncoder().encode(source),
    'text/x-rust',
  );
  const start = env.fake.requests.length;
  const id = env.fake.slashCommand(env.fake.channel.id, alice(), 'build', [
    { name: 'file', value: file },
    { name: 'boot', value: true },
  ]);
  const progress = await originalEdit(start);
  const [job] = queue.submitted.slice(-1);
  assert.equal(job?.request.kind, 'build');
  assert.equal(job?.request.kind === 'build' && job.request.source, source);
  assert.equal(job?.request.kind === 'build' && job.request.boot, true);
  assert.ok(env.fake.cdnHits.some((hit) => hit.endsWith('/hello.rs')));

  // Brackets escaped: Discord shows them as they are.
  assert.match(String(progress.body?.content), /^\\\[job \w{5}\\\] queued/);
  const rows = progress.body?.components as { components: { custom_id: string }[] }[];
  const cancel = rows[0]!.components[0]!.custom_id;
  const messageId = env.fake.interaction(id)!.originalMessageId!;
  const erin = env.fake.user('erin');
  env.fake.pressButton(messageId, erin, cancel);
  await env.fake.waitFor(() => queue.cancelled.length > 0);
  assert.deepEqual(queue.cancelled, [{ jobId: cancel.split(':')[2]!, userId: erin.id }]);

  // The job moves on: the progress message is edited and loses its Cancel button once done.
  const doneStart = env.fake.requests.length;
  job!.watcher.result({
    jobId: cancel.split(':')[2]!,
    outcome: 'success',
    environment: null,
    summary: '✅ built',
    body: '',
    warnings: 0,
    errors: 0,
    fullLog: '',
    durationMs: 1200,
  });
  const done = await originalEdit(doneStart, (r) => /done in/.test(String(r.body?.content)));
  assert.deepEqual(done.body?.components, []);
  const result = await env.fake.waitForRequest('POST', /^\/webhooks\/\d+\/[^/]+$/, { after: doneStart });
  assert.match(String(result.body?.content), /✅ built/);
});

test('a binary .rs is refused after fetching; an oversized one without downloading it', async () => {
  const binary = env.fake.upload(
    env.fake.channel.id,
    'evil.rs',
    new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2]),
  );
  const submitted = queue.submitted.length;
  let start = env.fake.requests.length;
  env.fake.say(env.fake.channel.id, alice(), '!build', [binary]);
  const refusal = await env.fake.waitForRequest('POST', /^\/channels\/\d+\/messages$/, { after: start });
  assert.match(String(refusal.body?.content), /binary data/);
  assert.ok(env.fake.cdnHits.some((hit) => hit.endsWith('/evil.rs')));

  const big = env.fake.upload(env.fake.channel.id, 'big.rs', new TextEncoder().encode('x'.repeat(5000)));
  start = env.fake.requests.length;
  env.fake.say(env.fake.channel.id, alice(), '!build', [big]);
  const tooLarge = await env.fake.waitForRequest('POST', /^\/channels\/\d+\/messages$/, { after: start });
  assert.match(String(tooLarge.body?.content), /larger than 4 KB/);
  assert.ok(!env.fake.cdnHits.some((hit) => hit.endsWith('/big.rs')), 'not downloaded');
  assert.equal(queue.submitted.length, submitted, 'no job for either');
});

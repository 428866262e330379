/**
 * The Discord adapter with the real discord.js client against the loopback fake Discord: questions in a
 * channel and in DMs, threads, long replies, a 429, attachments, edits, deletes and reactions.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Command } from '../../bot/commands/command.ts';
import { defaultCommands } from '../../bot/commands/index.ts';
import type { KnowledgeService } from '../../knowledge/answer-types.ts';
import { type BotOnFake, discordKnowledge, eventually, startBotOnFake } from '../helpers/fake-discord/bot.ts';
import type { RecordedRequest } from '../helpers/fake-discord/index.ts';

const CREATE_MESSAGE = /^\/channels\/\d+\/messages$/;

/** `!lines <n>`: a reply with an n-line code block, to see long output on Discord. */
const linesCommand: Command = {
  name: 'lines',
  usage: '<n>',
  summary: 'print n numbered lines',
  async run({ args }) {
    const count = Number(args);
    const text = Array.from({ length: count }, (_, i) => `line ${i + 1}: ${'x'.repeat(40)}`).join('\n');
    return {
      ok: true,
      value: { lead: `${count} lines:`, code: { language: 'text', text }, details: [], sources: [] },
    };
  },
};

let knowledge: KnowledgeService;
let env: BotOnFake;

before(async () => {
  knowledge = await discordKnowledge();
  env = await startBotOnFake(knowledge, { router: { commands: [...defaultCommands(), linesCommand] } });
});
after(() => env.stop());

const alice = () => env.fake.user('alice');

/** The bot's messages created in `channelId` after request number `after`, waiting for `count` of them. */
async function botMessages(channelId: string, after: number, count = 1): Promise<RecordedRequest[]> {
  return env.fake.waitFor(() => {
    const posted = env.fake.requests
      .slice(after)
      .filter((r) => r.method === 'POST' && r.path === `/channels/${channelId}/messages` && r.status === 200);
    return posted.length >= count ? posted : null;
  });
}

test('a question in a channel is answered in a thread started from it, mentioning no one', async () => {
  const start = env.fake.requests.length;
  const question = env.fake.say(env.fake.channel.id, alice(), '!ask which rustc does 6.1 need?');
  const [answer] = await botMessages(question.id, start);
  const thread = env.fake.channelById(question.id);
  assert.equal(thread?.parent_id, env.fake.channel.id, 'the thread hangs off the question');
  assert.match(String(thread?.name), /which rustc does 6\.1 need/);
  assert.match(String(answer!.body?.content), /1\.62\.0/);
  assert.match(
    String(answer!.body?.content),
    /\[Minimum tool versions \(6\.1\)\]\(<https:\/\/\S+v6\.1\.50\S+>\)/,
  );
  assert.deepEqual(answer!.body?.allowed_mentions, { parse: [], replied_user: false });
  assert.equal(env.fake.messagesIn(env.fake.channel.id).length, 1, 'nothing but the question in the channel');
});

test('a follow-up in the thread keeps the question’s context; the channel does not share it', async () => {
  const question = env.fake.say(env.fake.channel.id, alice(), '!ask which rustc does 6.6 need?');
  await botMessages(question.id, 0);
  const start = env.fake.requests.length;
  const followUp = env.fake.say(question.id, alice(), '!sources');
  const [reply] = await botMessages(question.id, start);
  assert.match(String(reply!.body?.content), /which rustc does 6\.6 need/);
  assert.deepEqual(reply!.body?.message_reference, { message_id: followUp.id, fail_if_not_exists: false });
  assert.deepEqual(reply!.body?.allowed_mentions, { parse: [], replied_user: true }, 'only the asker');

  const elsewhere = env.fake.say(env.fake.channel.id, alice(), '!sources');
  const [unrelated] = await botMessages(elsewhere.id, start);
  assert.match(String(unrelated!.body?.content), /haven’t answered a question here yet/);
});

test('chatter in a channel gets no reply and no thread; a mention is a question', async () => {
  const start = env.fake.requests.length;
  const chatter = env.fake.say(env.fake.channel.id, alice(), 'which rustc does 6.1 need? @everyone');
  const mention = env.fake.say(
    env.fake.channel.id,
    alice(),
    `<@${env.fake.botUser.id}> which rustc does 6.1 need? @everyone`,
  );
  const [answer] = await botMessages(mention.id, start);
  assert.match(String(answer!.body?.content), /1\.62\.0/);
  assert.equal(env.fake.channelById(chatter.id), undefined, 'no thread for chatter');
  assert.equal(env.fake.messagesIn(chatter.id).length, 0);
});

/** What Discord still reads as Markdown: escapes and inline code spans blanked out, left to right. */
const markup = (text: string) => text.replace(/\\[^\s\w]|`[^`\n]+`/g, ' ');

test('a masked link in a refused option, or @everyone in a command name, comes back as text', async () => {
  let start = env.fake.requests.length;
  const build = env.fake.say(env.fake.channel.id, alice(), '!build -[click-me](https://evil.example/phish)');
  const [refusal] = await botMessages(build.id, start);
  const text = String(refusal!.body?.content);
  assert.match(text, /I don’t know the option -\\\[click-me\\\]\(<https:\/\/evil\.example\/phish>\);/);
  assert.doesNotMatch(markup(text), /\[[^\]]*\]\(/, 'no masked link');

  start = env.fake.requests.length;
  const ping = env.fake.say(env.fake.channel.id, alice(), `<@${env.fake.botUser.id}> !x@everyone`);
  const [unknown] = await botMessages(ping.id, start);
  assert.match(String(unknown!.body?.content), /^I don’t know the command !x@\u200beveryone\./);
  assert.doesNotMatch(markup(String(unknown!.body?.content)), /@everyone/);
  assert.deepEqual(
    unknown!.body?.allowed_mentions,
    { parse: [], replied_user: false },
    'and it may ping no one',
  );
});

test('a reply over 2,000 characters is split without breaking its code block', async () => {
  const start = env.fake.requests.length;
  const question = env.fake.say(env.fake.channel.id, alice(), '!lines 70');
  const parts = await botMessages(question.id, start, 2);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const contents = env.fake.messagesIn(question.id).map((message) => message.content);
  assert.ok(contents.length >= 2 && contents.length <= 3, `${contents.length} messages`);
  for (const content of contents) {
    assert.ok(content.length <= 2000, `${content.length} characters`);
    assert.equal((content.match(/^```/gm) ?? []).length % 2, 0, 'every message closes the fences it opens');
  }
  const lines = contents
    .join('\n')
    .split('\n')
    .filter((line) => line.startsWith('line '));
  assert.equal(lines.length, 70, 'no line lost or repeated');
  assert.equal(parts[0]!.files.length, 0);
});

test('a reply too long for three messages comes as one message and an attached file', async () => {
  const start = env.fake.requests.length;
  const question = env.fake.say(env.fake.channel.id, alice(), '!lines 400');
  const [reply] = await botMessages(question.id, start);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(env.fake.messagesIn(question.id).length, 1);
  const content = String(reply!.body?.content);
  assert.ok(content.length <= 2000);
  assert.equal((content.match(/^```/gm) ?? []).length % 2, 0);
  assert.match(content, /attached output\.txt/);
  assert.equal(reply!.files[0]?.name, 'output.txt');
  assert.equal(reply!.files[0]?.data.toString().trimEnd().split('\n').length, 400);
});

/** The requests to create a message since request number `start`: a retry shows as a second one. */
const messageCreations = (start: number) =>
  env.fake.requests.slice(start).filter((r) => r.method === 'POST' && CREATE_MESSAGE.test(r.path));

test('a 429 on sending is waited out for retry_after and the message is sent once', async () => {
  const start = env.fake.requests.length;
  env.fake.rateLimitNext('POST', CREATE_MESSAGE, 1);
  const question = env.fake.say(env.fake.channel.id, alice(), '!ask which bindgen does 6.1 need?');
  await botMessages(question.id, start);
  const attempts = messageCreations(start);
  assert.deepEqual(
    attempts.map((r) => r.status),
    [429, 200],
  );
  assert.ok(attempts[1]!.at - attempts[0]!.at >= 1000, 'waited retry_after');
  assert.equal(env.fake.messagesIn(question.id).length, 1);
});

test('a direct message is answered in the DM, without a thread', async () => {
  const bob = env.fake.user('bob');
  const dm = env.fake.dm(bob);
  const start = env.fake.requests.length;
  env.fake.say(dm.id, bob, 'which rustc does 6.6 need?');
  const [answer] = await botMessages(dm.id, start);
  assert.match(String(answer!.body?.content), /1\.73\.0/);
  assert.equal(
    env.fake.requests.slice(start).filter((r) => r.path.endsWith('/threads')).length,
    0,
    'no thread in a DM',
  );
});

test('editing a question re-runs it in place; deleting it removes the answer', async () => {
  const question = env.fake.say(env.fake.channel.id, alice(), '!ask which rustc does 6.1 need?');
  const [first] = await botMessages(question.id, 0);
  assert.match(String(first!.body?.content), /1\.62\.0/);
  const answerId = env.fake.messagesIn(question.id)[0]!.id;
  await eventually(() => env.ledger.answer(`discord:${answerId}`).then((found) => found ?? undefined));

  env.fake.edit(question.id, '!ask which bindgen does 6.1 need?');
  await env.fake.waitFor(() => /0\.56\.0/.test(env.fake.message(answerId)?.content ?? '') || undefined);
  assert.equal(env.fake.messagesIn(question.id).length, 1, 'the answer was edited, not sent again');

  env.fake.remove(question.id);
  await env.fake.waitFor(() => (env.fake.message(answerId) ? undefined : true));
  assert.equal(env.fake.messagesIn(question.id).length, 0);
});

test('👍 on an answer is feedback; on someone else’s message it is not', async () => {
  const question = env.fake.say(env.fake.channel.id, alice(), '!ask which rustc does 6.1 need?');
  const [answer] = await botMessages(question.id, 0);
  const answerId = env.fake.messagesIn(question.id)[0]!.id;
  assert.ok(answer);
  await eventually(() => env.ledger.answer(`discord:${answerId}`).then((found) => found ?? undefined));
  const carol = env.fake.user('carol');
  env.fake.react(question.id, carol, '👍');
  env.fake.react(answerId, carol, '👍');
  const ratings = await eventually(async () => {
    const found = await env.ledger.ratings(`discord:${answerId}`);
    return Object.keys(found).length > 0 ? found : undefined;
  });
  assert.deepEqual(ratings, { [carol.id]: 'up' });
  assert.deepEqual(await env.ledger.ratings(`discord:${question.id}`), {}, 'not feedback: not our message');
  const recorded = await env.ledger.answer(`discord:${answerId}`);
  assert.equal(recorded?.question, '!ask which rustc does 6.1 need?');
});

test('an answer whose response was lost is posted once: discord.js’s retry repeats its enforced nonce', async () => {
  const start = env.fake.requests.length;
  env.fake.loseResponseNext('POST', CREATE_MESSAGE);
  const question = env.fake.say(env.fake.channel.id, alice(), '!ask which bindgen does 6.1 need?');
  await botMessages(question.id, start);
  const attempts = messageCreations(start);
  assert.deepEqual(
    attempts.map((r) => r.status),
    [0, 200],
    'the connection reset after Discord created the message, and discord.js sent it again',
  );
  const [lost, retry] = attempts.map((r) => r.body as { nonce?: string; enforce_nonce?: boolean });
  assert.ok(lost?.nonce && lost.enforce_nonce === true, 'an enforced nonce');
  assert.equal(retry?.nonce, lost.nonce, 'the same one on the retry');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const answers = env.fake.messagesIn(question.id);
  assert.equal(answers.length, 1, 'the user sees the answer once');
  assert.match(answers[0]!.content, /0\.56\.0/);
});

test('👎 on an answer in a DM is feedback (the Direct Message Reactions intent)', async () => {
  const dave = env.fake.user('dave');
  const dm = env.fake.dm(dave);
  const start = env.fake.requests.length;
  env.fake.say(dm.id, dave, 'which rustc does 6.1 need?');
  await botMessages(dm.id, start);
  const answerId = env.fake.messagesIn(dm.id).find((m) => m.author.id === env.fake.botUser.id)!.id;
  await eventually(() => env.ledger.answer(`discord:${answerId}`).then((found) => found ?? undefined));
  env.fake.react(answerId, dave, '👎');
  const ratings = await eventually(async () => {
    const found = await env.ledger.ratings(`discord:${answerId}`);
    return Object.keys(found).length > 0 ? found : undefined;
  });
  assert.deepEqual(ratings, { [dave.id]: 'down' });
});

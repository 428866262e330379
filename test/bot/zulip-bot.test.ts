/**
 * The bot on Zulip against the loopback fake Zulip, as newcomers see it: a question in a channel's topic
 * is answered in that topic, a direct message in a direct message; editing the question edits the answer,
 * deleting it removes the answer, a 👎 on an answer is recorded, and text quoted from a user shows as
 * typed (no mention notifies, no formatting applies).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startZulipBot, type ZulipBot } from '../../bot/adapters/zulip/bot.ts';
import { ZulipClient } from '../../bot/adapters/zulip/client.ts';
import { KnownMessages } from '../../bot/adapters/zulip/memory.ts';
import { renderZulip } from '../../bot/adapters/zulip/render.ts';
import { createZulipSurface } from '../../bot/adapters/zulip/surface.ts';
import { textMessage } from '../../bot/chat/rich-message.ts';
import { type ChatLedger, MemoryChatLedger } from '../../bot/dispatch/chat-ledger.ts';
import type { Dispatcher } from '../../bot/dispatch/dispatcher.ts';
import { fixtureChat, fixtureKnowledge, log } from '../helpers/chat-fixture.ts';
import { eventually } from '../helpers/fake-discord/bot.ts';
import { FakeZulip } from '../helpers/fake-zulip/index.ts';

const botUser = { user_id: 5, email: 'onboard-bot@zulip.test', full_name: 'Onboard', apiKey: 'k3y' };
const alice = { user_id: 9, email: 'alice@zulip.test', full_name: 'Alice' };
const rust = { stream: 'rust-for-linux', topic: 'bindgen' };

let fake: FakeZulip;
let bot: ZulipBot;
let ledger: ChatLedger;
let dispatcher: Dispatcher;

/** The bot as a process starts it: it reads the messages of the last `catchUpMs`, then its event queue. */
async function startBot(catchUpMs = 60_000): Promise<ZulipBot> {
  const started = await startZulipBot({
    credentials: { site: fake.siteUrl, email: botUser.email, apiKey: botUser.apiKey },
    channels: [rust.stream],
    dispatcher,
    log,
    catchUpMs,
    clientOptions: { backoffBaseMs: 20, backoffMaxMs: 100 },
  });
  assert.ok(started.ok);
  const running = started.value;
  await eventually(async () => running.isConnected() || undefined);
  return running;
}

before(async () => {
  fake = await new FakeZulip({ bot: botUser, heartbeatMs: 5000 }).start();
  ledger = new MemoryChatLedger();
  ({ dispatcher } = fixtureChat(await fixtureKnowledge('zulip-bot'), 'zulip', { ledger }));
  bot = await startBot();
});

after(async () => {
  await bot.stop();
  await fake.stop();
});

const botMessages = (messages: Record<string, unknown>[]) =>
  messages.filter((message) => message.sender_id === botUser.user_id);

async function answerIn(where: { stream: string; topic: string }, count = 1) {
  return eventually(async () => {
    const found = botMessages(fake.messagesIn(where.stream, where.topic));
    return found.length >= count ? found : undefined;
  });
}

test('a question in a channel topic is answered in the same topic, and a 👎 on the answer is recorded', async () => {
  fake.say(alice, '!ask which bindgen does 6.1 need?', rust);
  const [answer] = await answerIn(rust);
  assert.match(String(answer!.content), /0\.56\.0/);

  await eventually(() => ledger.answer(`zulip:${answer!.id}`).then((found) => found ?? undefined));
  fake.react(alice, Number(answer!.id), 'thumbs_down');
  const ratings = await eventually(async () => {
    const found = await ledger.ratings(`zulip:${answer!.id}`);
    return Object.keys(found).length > 0 ? found : undefined;
  });
  assert.deepEqual(ratings, { [String(alice.user_id)]: 'down' });
});

test('a mention of the bot in a channel it does not listen in is answered; other chatter is not', async () => {
  const elsewhere = { stream: 'general', topic: 'hello' };
  fake.say(alice, 'nice weather today', elsewhere);
  fake.say(alice, '@**Onboard** which bindgen does 6.1 need?', elsewhere);
  const [answer] = await answerIn(elsewhere);
  assert.match(String(answer!.content), /0\.56\.0/);
  assert.equal(botMessages(fake.messagesIn(elsewhere.stream, elsewhere.topic)).length, 1);
});

test('a direct message gets its answer as a direct message', async () => {
  fake.say(alice, 'which bindgen does 6.1 need?', null);
  const [answer] = await eventually(async () => {
    const found = fake.directMessagesTo(alice);
    return found.length > 0 ? found : undefined;
  });
  assert.match(String(answer!.content), /0\.56\.0/);
  assert.equal(answer!.type, 'private');
});

test('an edited question is asked again and its answer edited; a deleted question takes its answer along', async () => {
  const topic = { stream: rust.stream, topic: 'toolchain' };
  const question = fake.say(alice, '!ask which bindgen does 6.1 need?', topic);
  const [answer] = await answerIn(topic);
  assert.match(String(answer!.content), /0\.56\.0/);

  // The answer about bindgen names rustc too: a question about the menu is answered otherwise.
  fake.edit(alice, question, '!ask where is CONFIG_RUST in menuconfig?');
  await eventually(async () =>
    /0\.56\.0/.test(String(fake.message(Number(answer!.id))?.content)) ? undefined : true,
  );
  assert.equal(botMessages(fake.messagesIn(topic.stream, topic.topic)).length, 1, 'edited, not sent again');

  fake.delete(question);
  await eventually(async () => (fake.message(Number(answer!.id)) ? undefined : true));
});

test('after a restart, what was asked meanwhile is answered once; edits and 👎 of earlier messages still work', async () => {
  const topic = { stream: rust.stream, topic: 'restart' };
  const before = fake.say(alice, '!ask which bindgen does 6.1 need?', topic);
  const [earlierAnswer] = await answerIn(topic);
  await eventually(() => ledger.answer(`zulip:${earlierAnswer!.id}`).then((found) => found ?? undefined));

  await bot.stop();
  // The first question falls out of the catch-up window, so the new process has not seen it.
  await new Promise((resolve) => setTimeout(resolve, 2100));
  fake.say(alice, '!ask which rustc does 6.1 need?', topic);
  bot = await startBot(1500);

  const answers = await answerIn(topic, 2);
  assert.match(String(answers[1]!.content), /1\.62\.0/, 'the question asked while the bot was down');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(botMessages(fake.messagesIn(topic.stream, topic.topic)).length, 2, 'nothing answered twice');
  assert.ok(
    fake.requests.some((request) => request.method === 'GET' && request.query.get('anchor') === 'newest'),
    'the missed messages were read',
  );

  // The new process never saw the first question or its answer: it asks Zulip for the edited one.
  const answered = String(earlierAnswer!.content);
  fake.edit(alice, before, '!ask where is CONFIG_RUST in menuconfig?');
  const reanswered = await eventually(async () => {
    const content = String(fake.message(Number(earlierAnswer!.id))?.content);
    return content !== answered ? content : undefined;
  });
  assert.doesNotMatch(reanswered, /0\.56\.0/, 'the edited question’s answer replaced the first');
  assert.ok(
    fake.requests.some(
      (request) => request.method === 'GET' && request.path === `/api/v1/messages/${before}`,
    ),
  );
  fake.react(alice, Number(earlierAnswer!.id), 'thumbs_down');
  await eventually(async () => {
    const found = await ledger.ratings(`zulip:${earlierAnswer!.id}`);
    return Object.keys(found).length > 0 ? found : undefined;
  });
  assert.equal(botMessages(fake.messagesIn(topic.stream, topic.topic)).length, 2);
});

const moderator = { user_id: 31, email: 'mod@zulip.test', full_name: 'Moderator' };
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a question moved alone to another topic is not asked again; edited there, it is answered there and the answer left behind goes', async () => {
  const from = { stream: rust.stream, topic: 'asked here' };
  const to = { stream: rust.stream, topic: 'moved here' };
  const question = fake.say(alice, '!ask which bindgen does 6.1 need?', from);
  await answerIn(from);
  assert.deepEqual(fake.move(moderator, question, { topic: to.topic }, 'change_one'), [question]);
  await pause(500);
  assert.equal(botMessages(fake.messagesIn(to.stream, to.topic)).length, 0, 'the move asks nothing');
  assert.equal(botMessages(fake.messagesIn(from.stream, from.topic)).length, 1, 'its answer stayed');

  fake.edit(alice, question, '!ask where is CONFIG_RUST in menuconfig?');
  const [answer] = await answerIn(to);
  assert.doesNotMatch(String(answer!.content), /0\.56\.0/, 'the edited question was answered');
  await eventually(
    async () => botMessages(fake.messagesIn(from.stream, from.topic)).length === 0 || undefined,
  );
});

test('a whole topic moved to another channel: edited there (the edit and the move in one event), the question is re-run and its answer edited where it now is', async () => {
  const from = { stream: rust.stream, topic: 'moving soon' };
  const to = { stream: 'general', topic: 'moved with its answer' };
  const question = fake.say(alice, '@**Onboard** which bindgen does 6.1 need?', from);
  const [answer] = await answerIn(from);
  const moved = fake.move(
    moderator,
    question,
    to,
    'change_all',
    '@**Onboard** where is CONFIG_RUST in menuconfig?',
  );
  assert.deepEqual(moved, [question, Number(answer!.id)], 'one event names the question and its answer');
  await eventually(async () =>
    /0\.56\.0/.test(String(fake.message(Number(answer!.id))?.content)) ? undefined : true,
  );
  assert.deepEqual(
    botMessages(fake.messagesIn(to.stream, to.topic)).map((message) => message.id),
    [answer!.id],
    'the answer edited in place, where it was moved',
  );
  assert.equal(botMessages(fake.messagesIn(from.stream, from.topic)).length, 0);
});

test('a question moved alone to another channel with its text edited: the new answer is where the question now is', async () => {
  const from = { stream: rust.stream, topic: 'wrong place' };
  const to = { stream: 'general', topic: 'right place' };
  const question = fake.say(alice, '!ask which bindgen does 6.1 need?', from);
  await answerIn(from);
  fake.move(moderator, question, to, 'change_one', '@**Onboard** !ask where is CONFIG_RUST in menuconfig?');
  const [answer] = await answerIn(to);
  assert.doesNotMatch(String(answer!.content), /0\.56\.0/);
  await eventually(
    async () => botMessages(fake.messagesIn(from.stream, from.topic)).length === 0 || undefined,
  );
});

test('a restart answers nothing twice: questions answered before it are in the catch-up window too', async () => {
  const topic = { stream: rust.stream, topic: 'quick restart' };
  fake.say(alice, '!ask which bindgen does 6.1 need?', topic);
  await answerIn(topic);
  await bot.stop();
  bot = await startBot();
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(botMessages(fake.messagesIn(topic.stream, topic.topic)).length, 1);
});

test('a job result sent again after a restart is not posted twice in the topic', async () => {
  const topic = { stream: rust.stream, topic: 'job results' };
  fake.say(alice, 'the build is running', topic);
  const to = { roomId: String(fake.streamId(topic.stream)), threadId: topic.topic };
  const surfaceOfNewProcess = () => {
    const client = new ZulipClient({ site: fake.siteUrl, email: botUser.email, apiKey: botUser.apiKey });
    return createZulipSurface({
      client,
      self: { userId: botUser.user_id, fullName: botUser.full_name },
      email: botUser.email,
      messages: new KnownMessages(client),
    });
  };
  const result = textMessage('Build `hello` passed.');
  const first = await surfaceOfNewProcess().send(to, result, { idempotencyKey: '101/job-7' });
  // The process died before recording the send; the next one sends the same result again.
  const again = await surfaceOfNewProcess().send(to, result, { idempotencyKey: '101/job-7' });
  assert.equal(again.messageId, first.messageId);
  const other = await surfaceOfNewProcess().send(to, result, { idempotencyKey: '102/job-7' });
  assert.notEqual(
    other.messageId,
    first.messageId,
    'the same result for another question is its own message',
  );
  assert.equal(botMessages(fake.messagesIn(topic.stream, topic.topic)).length, 2);
  assert.match(
    String(fake.message(Number(first.messageId))?.content),
    /^Build `hello` passed\.\n[\u200b-\u200d\u2060]{32}$/,
  );
});

test('an answer whose response was lost is posted once: the retry finds it by its invisible marker', async () => {
  const topic = { stream: rust.stream, topic: 'lost response' };
  fake.loseResponseTo('POST', '/api/v1/messages');
  fake.say(alice, '!ask which bindgen does 6.1 need?', topic);
  const [answer] = await answerIn(topic);
  assert.match(String(answer!.content), /0\.56\.0[\s\S]*\n[\u200b-\u200d\u2060]{32}$/);
  // Recorded as the answer: the retry learnt its id, so 👍 on it counts.
  await eventually(() => ledger.answer(`zulip:${answer!.id}`).then((found) => found ?? undefined));
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(botMessages(fake.messagesIn(topic.stream, topic.topic)).length, 1, 'posted once');
  const marker = String(answer!.content).slice(-32);
  const sends = fake.requests.filter(
    (request) => request.path === '/api/v1/messages' && request.form.get('content')?.endsWith(marker),
  );
  assert.equal(sends.length, 1, 'sent once: the retry found it instead of sending it again');
});

test('user text is shown as typed: no mention notifies, no Markdown formats, inline code stays code', () => {
  const { content } = renderZulip(
    textMessage('You wrote @**all** and **bold** [x](http://evil) $$x$$ ~~gone~~ <time:1> in `@**code**`', [
      '# not a heading',
    ]),
  );
  assert.ok(!content.split('`')[0]!.includes('@**'), 'no mention outside the code span');
  assert.match(content, /@\\\*\\\*all\\\*\\\*/);
  assert.match(content, /\\\[x\\\]\\\(http:\/\/evil\\\)/);
  assert.ok(!content.includes('$$') && !content.includes('~~') && content.includes('<\u200btime:1\\>'));
  assert.match(content, /`@\*\*code\*\*`/, 'our inline code spans stay code');
  assert.match(content, /^\\# not a heading$/m);
});

test('a reply longer than Zulip allows keeps its start and hands the whole text over as a file', () => {
  const long = 'line of build output\n'.repeat(2000);
  const rendering = renderZulip({
    lead: 'The log:',
    code: { language: 'text', text: long },
    details: [],
    sources: [],
  });
  assert.ok(rendering.content.length <= 10_000);
  assert.match(rendering.content, /^The log:\n```text\nline of build output/);
  assert.match(rendering.content, /```$/);
  assert.equal(rendering.file?.text, long);
});

test('edits stay within the organisation’s edit limit: past it, or once editing is turned off, the new text is a new message that later edits follow', async () => {
  // Zulip's timestamps are whole seconds, so a message can look up to a second old the moment it is
  // sent: the limit leaves room for that, and the wait goes past it.
  const strict = await new FakeZulip({ bot: botUser, editing: { allowed: true, limitSeconds: 2 } }).start();
  try {
    const client = new ZulipClient({ site: strict.siteUrl, email: botUser.email, apiKey: botUser.apiKey });
    assert.ok((await client.register()).ok, 'register tells the limit');
    const messages = new KnownMessages(client);
    const surface = createZulipSurface({
      client,
      self: { userId: botUser.user_id, fullName: botUser.full_name },
      email: botUser.email,
      messages,
    });
    const topic = { stream: rust.stream, topic: 'progress' };
    const to = { roomId: String(strict.streamId(topic.stream)), threadId: topic.topic };
    const progress = await surface.send(to, textMessage('[job abcde] queued'));
    // What the bot's own message event does: the message and its time are remembered.
    assert.ok((await messages.find(Number(progress.messageId))).ok);
    // Without the invisible marker a new message ends with (an edit drops it).
    const contents = () =>
      strict
        .messagesIn(topic.stream, topic.topic)
        .map((message) => String(message.content).replace(/\n[\u200b-\u200d\u2060]{32}$/, ''));

    await surface.edit(progress, textMessage('[job abcde] building'));
    assert.deepEqual(contents(), ['\\[job abcde\\] building'], 'edited in place within the limit');

    await new Promise((resolve) => setTimeout(resolve, 2100));
    const patches = () => strict.requests.filter((request) => request.method === 'PATCH').length;
    const patchesBefore = patches();
    await surface.edit(progress, textMessage('[job abcde] booting'));
    assert.equal(patches(), patchesBefore, 'past the limit, no edit is tried');
    assert.deepEqual(contents(), ['\\[job abcde\\] building', '\\[job abcde\\] booting']);

    strict.setEditing({ allowed: false, limitSeconds: null });
    await surface.edit(progress, textMessage('[job abcde] done in 2s'));
    assert.equal(patches(), patchesBefore + 1, 'the replacement was still editable as far as the bot knew');
    assert.deepEqual(
      contents(),
      ['\\[job abcde\\] building', '\\[job abcde\\] booting', '\\[job abcde\\] done in 2s'],
      'Zulip refused the edit (BAD_REQUEST), so the text went out anew',
    );

    await surface.remove(progress);
    assert.deepEqual(contents(), [], 'removing the message removes what took its place');
    await assert.rejects(
      surface.edit(progress, textMessage('[job abcde] failed')),
      /400 BAD_REQUEST/,
      'a deleted message is not posted again',
    );
    assert.deepEqual(contents(), []);
  } finally {
    await strict.stop();
  }
});

/**
 * The Zulip client against the loopback fake Zulip: events arrive, messages are sent, edited, deleted and
 * reacted to, files go up and come down under a cap, and the event loop recovers on its own from a
 * server restart, a rate limit and a network error without losing or repeating what a user said.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ZulipEvent } from '../../bot/adapters/zulip/api-types.ts';
import { ZulipClient } from '../../bot/adapters/zulip/client.ts';
import { parseZuliprc } from '../../bot/adapters/zulip/credentials.ts';
import { FakeZulip } from '../helpers/fake-zulip/index.ts';

const bot = { user_id: 5, email: 'onboard-bot@zulip.test', full_name: 'Onboard', apiKey: 'k3y' };
const newcomer = { user_id: 9, email: 'newcomer@zulip.test', full_name: 'Newcomer' };

async function withZulip(
  run: (fake: FakeZulip, client: ZulipClient, recoveries: string[]) => Promise<void>,
  server: { heartbeatMs?: number; longpollTimeoutSeconds?: number } = { heartbeatMs: 5000 },
) {
  const fake = await new FakeZulip({ bot, ...server }).start();
  const recoveries: string[] = [];
  const client = new ZulipClient(
    { email: bot.email, apiKey: bot.apiKey, site: fake.siteUrl },
    { backoffBaseMs: 20, backoffMaxMs: 100, onRecovery: (failure) => recoveries.push(failure.logText) },
  );
  try {
    await run(fake, client, recoveries);
  } finally {
    await fake.stop();
  }
}

/** Reads the client's event loop in the background; `next(n)` waits for n more non-heartbeat events. */
function listen(client: ZulipClient) {
  const controller = new AbortController();
  const received: ZulipEvent[] = [];
  let wake = () => {};
  const loop = (async () => {
    for await (const event of client.events({ signal: controller.signal })) {
      received.push(event);
      wake();
    }
  })();
  return {
    received,
    async until(count: number) {
      while (received.length < count) await new Promise<void>((resolve) => (wake = resolve));
    },
    async stop() {
      controller.abort();
      await loop;
    },
  };
}

const messageIdOf = (event: ZulipEvent | undefined) => (event?.type === 'message' ? event.message.id : null);

const messageContents = (events: ZulipEvent[]) =>
  events.flatMap((event) => (event.type === 'message' ? [event.message.content] : []));

test('zuliprc: the [api] section gives email, key and site; a missing key is a failure, not a throw', () => {
  const parsed = parseZuliprc('[other]\nkey=no\n[api]\nemail = b@z.test\nkey=abc=def\nsite=https://z.test\n');
  assert.deepEqual(parsed, {
    ok: true,
    value: { email: 'b@z.test', apiKey: 'abc=def', site: 'https://z.test' },
  });
  assert.equal(parseZuliprc('[api]\nemail=b@z.test\n').ok, false);
});

test('a message a newcomer posts in a topic reaches the bot as a message event', async () => {
  await withZulip(async (fake, client) => {
    const events = listen(client);
    while (fake.queueCount === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    fake.say(newcomer, 'How do I build the Rust samples?', { stream: 'newcomers', topic: 'build' });
    await events.until(1);
    await events.stop();
    const [event] = events.received;
    assert.equal(event?.type, 'message');
    assert.equal(event.type === 'message' && event.message.subject, 'build');
    assert.equal(event.type === 'message' && event.message.sender_email, newcomer.email);
    const register = fake.requests.find((request) => request.path === '/api/v1/register');
    assert.deepEqual(JSON.parse(register?.form.get('event_types') ?? ''), [
      'message',
      'update_message',
      'delete_message',
      'reaction',
    ]);
  });
});

test('the bot answers in a topic and in a direct message, then edits, reacts to (once, however often asked) and deletes its answer', async () => {
  await withZulip(async (fake, client) => {
    const inTopic = await client.sendStreamMessage('newcomers', 'build', 'Run `make LLVM=1 rustavailable`.');
    assert.ok(inTopic.ok);
    assert.equal(fake.message(inTopic.value.id)?.subject, 'build');
    assert.equal(fake.message(inTopic.value.id)?.display_recipient, 'newcomers');

    const direct = await client.sendDirectMessage([newcomer.user_id], 'Welcome!');
    assert.ok(direct.ok);
    const recipients = fake.message(direct.value.id)?.display_recipient as { id: number }[];
    assert.ok(recipients.some((recipient) => recipient.id === newcomer.user_id));

    assert.ok((await client.editMessage(inTopic.value.id, 'Run `make LLVM=1 rustavailable` first.')).ok);
    assert.equal(fake.message(inTopic.value.id)?.content, 'Run `make LLVM=1 rustavailable` first.');

    assert.ok((await client.addReaction(inTopic.value.id, 'octopus')).ok);
    const reaction = fake.requests.find((request) => request.path.endsWith('/reactions'));
    assert.equal(reaction?.form.get('emoji_name'), 'octopus');
    const twice = await client.addReaction(inTopic.value.id, 'octopus');
    assert.ok(twice.ok, 'a reaction made before (REACTION_ALREADY_EXISTS) is no failure');

    assert.ok((await client.deleteMessage(inTopic.value.id)).ok);
    assert.equal(fake.message(inTopic.value.id), undefined);
    const again = await client.deleteMessage(inTopic.value.id);
    assert.equal(again.ok, false, 'a message already gone is a failure value, not a throw');
  });
});

test('edits, reactions and deletions reach the event stream with the message they concern', async () => {
  await withZulip(async (fake, client) => {
    const events = listen(client);
    while (fake.queueCount === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const sent = await client.sendStreamMessage('newcomers', 'build', 'first draft');
    assert.ok(sent.ok);
    await client.editMessage(sent.value.id, 'second draft');
    fake.react(newcomer, sent.value.id, 'thumbs_up');
    await client.deleteMessage(sent.value.id);
    await events.until(4);
    await events.stop();
    const concerning = events.received.map((event) => [
      event.type,
      event.type === 'message' ? event.message.id : 'message_id' in event ? event.message_id : null,
    ]);
    assert.deepEqual(concerning, [
      ['message', sent.value.id],
      ['update_message', sent.value.id],
      ['reaction', sent.value.id],
      ['delete_message', sent.value.id],
    ]);
    const edit = events.received[1];
    assert.equal(edit?.type === 'update_message' && edit.content, 'second draft');
  });
});

test('a wrong API key is a failure the operator can read, not a throw', async () => {
  await withZulip(async (fake) => {
    const client = new ZulipClient({ email: bot.email, apiKey: 'wrong', site: fake.siteUrl });
    const sent = await client.sendStreamMessage('newcomers', 'build', 'hello');
    assert.equal(sent.ok, false);
    assert.match(!sent.ok ? sent.failure.logText : '', /INVALID_API_KEY/);
  });
});

test('a file goes up and comes back with the bot’s credentials; one over the cap is refused', async () => {
  await withZulip(async (fake, client) => {
    const log = Buffer.from('error[E0425]: cannot find value `x` in this scope\n');
    const uploaded = await client.uploadFile('build.log', log, 'text/plain');
    assert.ok(uploaded.ok);
    assert.ok(uploaded.value.url.startsWith('/user_uploads/'));

    const downloaded = await client.downloadUpload(uploaded.value.url, 1024);
    assert.ok(downloaded.ok);
    assert.equal(Buffer.from(downloaded.value).toString(), log.toString());

    const big = fake.storeUpload('vmlinux', Buffer.alloc(4096));
    const refused = await client.downloadUpload(big, 1024);
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.failure.userMistake, true, 'the user is told the file is too large');

    const elsewhere = await client.downloadUpload('https://elsewhere.test/user_uploads/2/x/a.txt', 1024);
    assert.equal(elsewhere.ok, false, 'the bot’s credentials never leave its server');
    assert.equal(fake.requests.filter((request) => request.path.includes('elsewhere')).length, 0);
  });
});

// Zulip's queues live in server memory: a restart loses them, with any events not yet fetched, and
// the documented recovery is a new queue. The client then fetches the messages after the last one it
// saw with GET /messages, and leaves out any message id it already delivered. Edits, deletions and
// reactions lost with the queue have no such history to read.
test('a server restart mid-poll: a new queue, and no message said before, during or after is lost or repeated', async () => {
  await withZulip(async (fake, client, recoveries) => {
    const events = listen(client);
    while (fake.queueCount === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    fake.say(newcomer, 'before the restart', { stream: 'newcomers', topic: 'q' });
    await events.until(1);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the client is in its next long poll
    fake.restart();
    fake.say(newcomer, 'while no queue existed', { stream: 'newcomers', topic: 'q' });
    while (fake.queueCount < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    fake.say(newcomer, 'after the restart', { stream: 'newcomers', topic: 'q' });
    await events.until(3);
    await new Promise((resolve) => setTimeout(resolve, 50)); // time for a duplicate to show up
    await events.stop();
    assert.deepEqual(messageContents(events.received), [
      'before the restart',
      'while no queue existed',
      'after the restart',
    ]);
    assert.ok(recoveries.some((line) => line.includes('registering anew')));
    const badQueue = fake.requests.find(
      (request) => request.status === 400 && request.path === '/api/v1/events',
    );
    assert.ok(badQueue, 'the client polled the lost queue, heard BAD_EVENT_QUEUE_ID and registered again');
    const catchUp = fake.requests.find(
      (request) => request.method === 'GET' && request.path === '/api/v1/messages',
    );
    assert.equal(catchUp?.query.get('anchor'), String(messageIdOf(events.received[0])));
  });
});

test('a heartbeat ends an idle poll without being an event the bot sees', async () => {
  await withZulip(
    async (fake, client) => {
      const events = listen(client);
      while (fake.queueCount === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 80)); // a heartbeat or two
      fake.say(newcomer, 'hello', null);
      await events.until(1);
      await events.stop();
      assert.deepEqual(
        events.received.map((event) => event.type),
        ['message'],
      );
      const polls = fake.requests.filter((request) => request.path === '/api/v1/events');
      assert.ok(polls.length >= 2, 'the idle poll ended with a heartbeat and the client polled again');
    },
    { heartbeatMs: 30 },
  );
});

test('a poll silent past the server’s long-poll timeout is given up and polled again, losing nothing', async () => {
  await withZulip(
    async (fake, client, recoveries) => {
      const events = listen(client);
      while (fake.queueCount === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 150)); // past the timeout: no heartbeat came
      fake.say(newcomer, 'are you awake?', null);
      await events.until(1);
      await events.stop();
      assert.deepEqual(messageContents(events.received), ['are you awake?']);
      assert.ok(recoveries.some((line) => line.includes('GET /events') && line.includes('no response')));
      assert.equal(fake.queueCount, 1, 'the same queue, so nothing sent meanwhile was lost');
    },
    { heartbeatMs: 5000, longpollTimeoutSeconds: 0.1 },
  );
});

test('a 429 with Retry-After is waited out and the message is then sent once', async () => {
  await withZulip(async (fake, client) => {
    fake.rateLimitNext(0.3);
    const started = Date.now();
    const sent = await client.sendStreamMessage('newcomers', 'build', 'answer');
    assert.ok(sent.ok);
    assert.ok(Date.now() - started >= 290, 'the client waited as long as the server asked');
    const posts = fake.requests.filter((request) => request.path === '/api/v1/messages');
    assert.deepEqual(
      posts.map((request) => request.status),
      [429, 200],
    );
  });
});

test('a network error in the event loop is backed off and the loop goes on', async () => {
  await withZulip(async (fake, client, recoveries) => {
    fake.resetConnectionNext(); // the first register
    const events = listen(client);
    while (fake.queueCount === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    fake.say(newcomer, 'still there?', null);
    await events.until(1);
    await events.stop();
    assert.deepEqual(messageContents(events.received), ['still there?']);
    assert.ok(recoveries.some((line) => line.includes('no response') && line.includes('retrying in')));
  });
});

/**
 * The Discord adapter's parts on their own, without a gateway: the memory of sent replies, the bot's
 * mentions in a message, thread names, and a reply edited in place on any destination.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Destination, type DiscordChannels, threadName } from '../../bot/adapters/discord/channels.ts';
import { withoutBotMentions } from '../../bot/adapters/discord/intake.ts';
import { AttachmentUrls, SentReplies } from '../../bot/adapters/discord/memory.ts';
import { createDiscordSurface, discordNonce, questionOf } from '../../bot/adapters/discord/surface.ts';
import { textMessage } from '../../bot/chat/rich-message.ts';

const destination = (): Destination => ({
  post: async () => ({ id: '' }),
  edit: async () => {},
  remove: async () => {},
});

test('sent replies forget the least recently used first, and their messages stay the bot’s after removal', () => {
  const replies = new SentReplies(2);
  const reply = (id: string) => ({ destination: destination(), messageIds: [id], question: null });
  replies.set('1', reply('1'));
  replies.set('2', reply('2'));
  assert.ok(replies.get('1')); // used: now '2' is the oldest in use
  replies.set('3', reply('3'));
  assert.deepEqual(
    ['1', '2', '3'].map((id) => replies.get(id) !== undefined),
    [true, false, true],
  );

  replies.link('10', '1');
  replies.link('11', '1');
  assert.equal(replies.replyIdOf('11'), '1');
  assert.equal(replies.replyIdOf('99'), '99', 'an unknown message is its own reply');
  replies.delete('1');
  assert.equal(replies.get('1'), undefined);
  assert.ok(replies.isBotMessage('10'), 'deleting the reply’s messages is the bot’s own doing');
  assert.ok(!replies.isBotMessage('99'));

  const urls = new AttachmentUrls(1);
  urls.remember('a', 'https://cdn.example/a');
  urls.remember('b', 'https://cdn.example/b');
  assert.equal(urls.urlOf('a'), undefined);
  assert.equal(urls.urlOf('b'), 'https://cdn.example/b');
});

test('the bot’s leading mention is dropped and its others named; other users’ mentions stay', () => {
  const self = { id: '42', username: 'rfl-onboard' };
  assert.equal(withoutBotMentions('<@42>: why <@!42>?', self), 'why @rfl-onboard?');
  assert.equal(withoutBotMentions('  <@!42> , hi', self), 'hi');
  assert.equal(withoutBotMentions('<@7> ask <@42>', self), '<@7> ask @rfl-onboard');
  assert.equal(withoutBotMentions('<@420> and <@4>', self), '<@420> and <@4>');
  assert.equal(withoutBotMentions('a $& name', { id: '1', username: '$&' }), 'a $& name');
  assert.equal(withoutBotMentions('<@1> hi <@1>', { id: '1', username: '$&' }), 'hi @$&');
});

test('a thread is named after the question’s first line-folded 80 characters', () => {
  assert.equal(threadName('  how do I\n\tbuild   this? '), 'how do I build this?');
  assert.equal(threadName(' \n '), 'rfl-onboard');
  const long = threadName('x'.repeat(200));
  assert.equal(long.length, 80);
  assert.ok(long.endsWith('…'));
});

test('a reply’s question is in the room when the reply opens its thread, else in the thread', () => {
  assert.equal(questionOf({ roomId: 'r', threadId: 't' }, undefined), null);
  assert.deepEqual(questionOf({ roomId: 'r', threadId: 'q' }, 'q'), { channelId: 'r', messageId: 'q' });
  assert.deepEqual(questionOf({ roomId: 'r' }, 'q'), { channelId: 'r', messageId: 'q' });
  assert.deepEqual(questionOf({ roomId: 'r', threadId: 't' }, 'q'), { channelId: 't', messageId: 'q' });
  assert.equal(discordNonce('job-1#0').length, 25);
  assert.equal(discordNonce('job-1#0'), discordNonce('job-1#0'));
  assert.notEqual(discordNonce('job-1#0'), discordNonce('job-1#1'));
});

test('an edited reply keeps its messages: edited, then added or removed to fit', async () => {
  const calls: string[] = [];
  let next = 100;
  const recording: Destination = {
    async post(payload, replyTo) {
      const id = String(next++);
      calls.push(`post ${id}${replyTo ? ` re ${replyTo}` : ''}${payload.nonce ? ' once' : ''}`);
      return { id };
    },
    async edit(messageId, payload) {
      calls.push(`edit ${messageId}${payload.attachments ? ' no-files' : ''}`);
    },
    async remove(messageId) {
      calls.push(`remove ${messageId}`);
    },
  };
  const replies = new SentReplies();
  const surface = createDiscordSurface({
    channels: {} as DiscordChannels,
    replies,
    attachmentUrls: new AttachmentUrls(),
  });
  const to = { roomId: 'r', threadId: 'q' };
  const long = textMessage('x'.repeat(1500), ['y'.repeat(1500)]);
  const ref = await surface.sendTo(recording, to, long, 'q', null, 'key');
  assert.deepEqual(calls.splice(0), ['post 100 re q once', 'post 101 once']);
  assert.equal(ref.messageId, '100');
  assert.equal(replies.replyIdOf('101'), '100');

  await surface.edit(ref, textMessage('short'));
  assert.deepEqual(calls.splice(0), ['edit 100 no-files', 'remove 101']);
  await surface.edit(ref, long);
  assert.deepEqual(calls.splice(0), ['edit 100 no-files', 'post 102']);
  assert.equal(replies.replyIdOf('102'), '100');
  await surface.remove(ref);
  assert.deepEqual(calls.splice(0), ['remove 100', 'remove 102']);
  assert.equal(replies.get('100'), undefined);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConversationMemory, type RememberedAnswer } from '../../bot/chat/conversation-memory.ts';

const answer = (question: string): RememberedAnswer => ({
  question,
  passages: [],
  shown: new Set(),
  numbered: 0,
  at: Date.now(),
  askedBy: 'matrix:@alice:example.org',
});

test('each thread keeps its own last answer; a new answer replaces the old one', () => {
  const memory = new ConversationMemory();
  memory.remember({ roomId: '!r' }, answer('room'));
  memory.remember({ roomId: '!r', threadId: 't1' }, answer('first'));
  memory.remember({ roomId: '!r', threadId: 't1' }, answer('second'));
  assert.equal(memory.lastAnswer({ roomId: '!r' })?.question, 'room');
  assert.equal(memory.lastAnswer({ roomId: '!r', threadId: 't1' })?.question, 'second');
  assert.equal(memory.lastAnswer({ roomId: '!other' }), undefined);
});

test('past its capacity the conversation used least recently is forgotten, not the oldest one', () => {
  const memory = new ConversationMemory(2);
  memory.remember({ roomId: '!a' }, answer('a'));
  memory.remember({ roomId: '!b' }, answer('b'));
  assert.equal(memory.lastAnswer({ roomId: '!a' })?.question, 'a', '!sources in !a uses it again');
  memory.remember({ roomId: '!c' }, answer('c'));
  assert.equal(memory.lastAnswer({ roomId: '!b' }), undefined);
  assert.deepEqual(
    [memory.lastAnswer({ roomId: '!a' })?.question, memory.lastAnswer({ roomId: '!c' })?.question],
    ['a', 'c'],
  );
});

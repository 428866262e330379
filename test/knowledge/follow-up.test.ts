/**
 * A follow-up in a thread is answered together with the question before it: "and on 6.1?" after
 * "which rustc does 6.6 need?" gets 6.1's rustc, says it read the two together, and a third follow-up
 * still has the subject; thanks and questions of their own are read alone, and so is one asked long after.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConversationMemory, FOLLOW_UP_WINDOW_MS } from '../../bot/chat/conversation-memory.ts';
import { isFollowUp, withContext } from '../../knowledge/follow-up.ts';
import { pipedChat } from '../bot/terminal-dispatcher.ts';
import { fixtureChat, fixtureKnowledge, log } from '../helpers/chat-fixture.ts';
import { assertLinear } from '../helpers/linear-time.ts';

describe('what counts as a follow-up', () => {
  test('continuations, pointers back and a bare version do; thanks and full questions do not', () => {
    for (const text of ['and on 6.1?', '6.1?', 'on v6.12', 'what about bindgen?', 'how do I enable it?'])
      assert.equal(isFollowUp(text), true, text);
    for (const text of [
      'thanks!',
      'How do I write a hello world kernel module in Rust?',
      'Does Rust for Linux support module parameters?',
      'which rustc does 6.12 need?',
    ])
      assert.equal(isFollowUp(text), false, text);
  });

  test("the follow-up's version replaces the one asked before", () => {
    const asked = withContext('and on 6.1?', 'which rustc does 6.12 need?');
    assert.match(asked, /^and on 6\.1\?\nwhich rustc does\s+need\?$/);
  });

  test('a flood of words is read in linear time', () => {
    const flood = `and ${'it '.repeat(200_000)}`;
    assertLinear(
      'isFollowUp on 600 KB',
      () => isFollowUp(flood),
      () => isFollowUp('a'.repeat(flood.length)),
    );
  });
});

test('a follow-up continues only its asker’s own recent question', () => {
  const memory = new ConversationMemory();
  const at = Date.now();
  const alice = 'matrix:@alice:example.org';
  memory.remember(
    { roomId: '!r' },
    { question: 'q', passages: [], shown: new Set(), numbered: 0, at, askedBy: alice },
  );
  assert.equal(memory.recentQuestion({ roomId: '!r' }, alice, at + 1000), 'q');
  assert.equal(memory.recentQuestion({ roomId: '!r' }, alice, at + FOLLOW_UP_WINDOW_MS + 1), undefined);
  assert.equal(memory.recentQuestion({ roomId: '!r' }, 'matrix:@bob:example.org', at + 1000), undefined);
});

test('through the terminal chat, follow-ups keep the thread’s subject', async () => {
  const { router } = fixtureChat(await fixtureKnowledge('follow-up', true), 'terminal');
  const printed = await pipedChat(
    router,
    ['which rustc does 6.6 need?', 'and on 6.1?', 'thanks!', 'and what about 6.6?', ''].join('\n'),
    log,
  );
  const [first, followUp, thanks, again] = printed.trim().split('\n\n');
  assert.match(first ?? '', /^Linux 6\.6\.\d+ needs at least rustc 1\.73\.0/, printed);
  assert.match(followUp ?? '', /^Linux 6\.1\.\d+ needs at least rustc 1\.62\.0/, printed);
  assert.match(followUp ?? '', /Read together with your previous question: “which rustc does 6\.6 need\?”/);
  assert.doesNotMatch(thanks ?? '', /rustc|Read together/, printed);
  assert.match(again ?? '', /^Linux 6\.6\.\d+ needs at least rustc 1\.73\.0/, printed);
});

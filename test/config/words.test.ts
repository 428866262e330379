import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plural } from '../../config/words.ts';

test('a count reads with its word in the right form', () => {
  assert.equal(plural(1, 'build'), '1 build');
  assert.equal(plural(0, 'build'), '0 builds');
  assert.equal(plural(2, 'reply', 'replies'), '2 replies');
  assert.equal(plural(1, 'reply', 'replies'), '1 reply');
  assert.equal(plural(12345, 'question'), '12,345 questions');
});

/** What may name a question's subject: names, not the everyday words around them nor what was pasted. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nameTerms, prose } from '../../knowledge/subject-words.ts';
import { assertLinear } from '../helpers/linear-time.ts';

test('made-up words, identifiers and capitalised names inside a sentence are names', () => {
  const names = nameTerms(
    'Does Rust have bindings for the Quibble controller of the zorbifier or `kernel::quantum_mesh`?',
  );
  for (const name of ['quibbl', 'zorbifi', 'kernel::quantum_mesh']) assert.ok(names.has(name), name);
});

test("everyday words are not names, but the words of a name's phrase are", () => {
  const names = nameTerms(
    "I'm not a specialist, it's a shame, but how do I configure the foo-bar-baz widget?",
  );
  for (const word of ['specialist', 'shame', 'configur']) assert.ok(!names.has(word), word);
  for (const name of ['foo-bar-baz', 'widget']) assert.ok(names.has(name), name);
});

test('a sentence’s first word is not a name for its capital; paths, assignments and pasted blocks are not names', () => {
  const names = nameTerms(
    'Shame. Building /usr/src/linux/drivers/foo.o with CONFIG_X=1 fails:\n```\nzorbulated frobs\n```',
  );
  assert.deepEqual(
    [...names].filter((term) => /shame|usr|config_x=1|zorbul|frob/.test(term)),
    [],
  );
  assert.equal(prose('before\n```\npasted\n```\nafter'), 'before\nafter');
});

test('a flood is read in linear time', () => {
  const flood = `${'Zorp widget '.repeat(40_000)}\n${'```\n'.repeat(20_000)}`;
  assertLinear(
    'nameTerms on 560 KB',
    () => nameTerms(flood),
    () => nameTerms('Plain words '.repeat(flood.length / 12)),
  );
});

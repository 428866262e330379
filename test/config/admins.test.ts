/**
 * chat.admins names Matrix, Discord and Zulip users without a chance of mistaking one for another: a
 * Zulip user id is digits like a Discord one, so it is written zulip:<id>; an email or a bare name is
 * refused with what to write instead.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAdmin } from '../../config/admins.ts';
import { formatProblems, loadConfig } from '../../config/load.ts';

const withAdmins = (admins: string[]) =>
  loadConfig({ env: { HOME: '/home/op', RFL_CHAT_ADMINS: JSON.stringify(admins) } });

test('chat.admins takes Matrix ids, Discord ids and zulip:<id>', () => {
  const loaded = withAdmins(['@maintainer:example.org', '123456789012345678', 'zulip:42']);
  assert.ok(loaded.ok);
  assert.deepEqual(loaded.config.chat.admins, ['@maintainer:example.org', '123456789012345678', 'zulip:42']);
});

test('a Zulip email, a name or zulip: without a number is refused with what to write', () => {
  for (const wrong of ['alice@rust-for-linux.zulipchat.com', 'zulip:alice@zulip.test', 'zulip:', 'Alice']) {
    const loaded = withAdmins([wrong]);
    assert.equal(loaded.ok, false, wrong);
    assert.match(
      formatProblems(loaded.ok ? [] : loaded.problems),
      /chat\.admins\.0: needs a Matrix user id \(@name:example\.org\), a Discord user id \(digits\), or zulip: and a Zulip user id \(zulip:42, the number on the user’s Zulip profile, not an email\)/,
    );
  }
});

test('zulip:42 is the Zulip user 42 only, and Discord’s 42 is not Zulip’s', () => {
  assert.ok(isAdmin(['zulip:42'], 'zulip', '42'));
  assert.ok(!isAdmin(['zulip:42'], 'discord', '42'));
  assert.ok(!isAdmin(['42'], 'zulip', '42'));
  assert.ok(isAdmin(['42'], 'discord', '42'));
  assert.ok(isAdmin(['@admin:example.org'], 'matrix', '@admin:example.org'));
});

/** Digest approval is on unless turned off, and a digest that could never be approved stops the start. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatProblems, loadConfig } from '../../config/load.ts';

const targets = JSON.stringify([{ platform: 'matrix', room: '!news:example.org' }]);
const adminRooms = JSON.stringify([{ platform: 'matrix', room: '!admins:example.org' }]);
const admins = JSON.stringify(['@maintainer:example.org']);

test('a digest goes to the admins for approval first unless that is turned off', () => {
  const result = loadConfig({ env: { HOME: '/home/op' } });
  assert.ok(result.ok);
  assert.equal(result.config.digest.approval, true);
});

test('approval without admin rooms or admins is refused with what to set, not left to wait forever', () => {
  const env = { HOME: '/home/op', RFL_DIGEST_ENABLED: 'true', RFL_DIGEST_TARGETS: targets };
  const nobody = loadConfig({ env });
  assert.equal(nobody.ok, false);
  assert.match(
    formatProblems(nobody.ok ? [] : nobody.problems),
    /digest\.approval: is on, .*digest\.adminRooms \(where the request is posted\) and chat\.admins \(who may approve it\) are empty: no digest would ever be posted\. Set them, or set digest\.approval to false\./,
  );
  const noRoom = loadConfig({ env: { ...env, RFL_CHAT_ADMINS: admins } });
  assert.match(formatProblems(noRoom.ok ? [] : noRoom.problems), /but digest\.adminRooms .* is empty/);

  assert.ok(loadConfig({ env: { ...env, RFL_DIGEST_ADMIN_ROOMS: adminRooms, RFL_CHAT_ADMINS: admins } }).ok);
  assert.ok(loadConfig({ env: { ...env, RFL_DIGEST_APPROVAL: 'false' } }).ok, 'turned off');
  assert.ok(
    loadConfig({ env: { HOME: '/home/op', RFL_DIGEST_ENABLED: 'true' } }).ok,
    'no targets: a preview only',
  );
});

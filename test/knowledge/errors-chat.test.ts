/**
 * The error explainer through the terminal chat, as a newcomer meets it: a pasted error gets its cause,
 * the fix and the docs that explain it, and an ordinary question after it is answered as before.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { botWorkDir, spawnBot } from '../helpers/bot-process.ts';
import { freePort, shutdownRedis } from '../helpers/redis.ts';

const work = botWorkDir('errors');
const redisUrl = `redis://127.0.0.1:${await freePort()}`;

after(() => shutdownRedis(redisUrl));

test('pasted errors are explained with a fix and a citation; a plain question is answered from the docs', async () => {
  const bot = spawnBot(work, ['chat'], { RFL_REDIS_URL: redisUrl });
  bot.child.stdin?.end(
    [
      // A two-line paste, joined by the terminal's line continuation.
      "error[E0463]: can't find crate for `core` \\",
      '  --> /home/sam/src/rust_hello/rust_hello.rs:12:1',
      'ERROR: modpost: "_RNvNtCs1aB2cD3eF4_6kernel5print11call_printk" [/tmp/m/rust_hello.ko] undefined!',
      "*** Rust compiler 'rustc' is too new. This may or may not work.",
      'which bindgen does 6.1 need?',
      '',
    ].join('\n'),
  );
  const code = await bot.exited;
  const stdout = bot.stdout();
  assert.equal(code, 0, bot.stderr());
  const core = stdout.indexOf('Distribution header packages');
  const modpost = stdout.indexOf('Module.symvers');
  const tooNew = stdout.indexOf('warning, not an error');
  const bindgen = stdout.indexOf('0.56.0', tooNew);
  assert.ok(core >= 0 && modpost > core && tooNew > modpost && bindgen > tooNew, stdout);
  assert.match(stdout, /rust-out-of-tree-module/, 'the crate error cites the out-of-tree module docs');
  assert.match(stdout, /modules\.html#symbols-and-external-modules/, 'modpost cites the Kbuild docs');
  assert.match(stdout, /rust-version-policy|quick-start\.html#rustc/, '"too new" cites the version policy');
  assert.match(stdout, /rustup override set 1\.62\.0/, 'the fix is the version the 6.1 tree pins');
  assert.match(stdout, /make -C \/path\/to\/built\/linux M=\$PWD LLVM=1/, 'the fix is a command to run');
});

/**
 * The README's run command, end to end: `node bot/main.ts chat` with piped input, a fixture kernel
 * tree, and a Redis it has to start itself.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { botWorkDir, spawnBot } from '../helpers/bot-process.ts';
import { freePort, shutdownRedis } from '../helpers/redis.ts';

const work = botWorkDir('main');
const redisUrl = `redis://127.0.0.1:${await freePort()}`;

after(() => shutdownRedis(redisUrl));

async function chat(input: string, env: Record<string, string> = {}) {
  const bot = spawnBot(work, ['chat'], { RFL_REDIS_URL: redisUrl, ...env });
  bot.child.stdin?.end(input);
  const code = await bot.exited;
  return { code, stdout: bot.stdout(), stderr: bot.stderr() };
}

test('piped questions get cited answers in order, and the process exits at end of input', async () => {
  const { code, stdout, stderr } = await chat(
    [
      'which bindgen does 6.1 need?',
      '!help',
      'where is CONFIG_RUST in the \\',
      'configuration menus?',
      '',
    ].join('\n'),
  );
  assert.equal(code, 0, stderr);
  const bindgen = stdout.indexOf('0.56.0');
  const help = stdout.indexOf('!faq');
  const config = stdout.indexOf('near the top of the menu');
  assert.ok(bindgen >= 0 && help > bindgen && config > help, stdout);
  assert.match(
    stdout,
    /Sources: \[1\] .*\(6\.1\).*elixir\.bootlin\.com\/linux\/v6\.1\.50\/source\/scripts\/min-tool-version\.sh/,
  );
  assert.doesNotMatch(stdout, /you>|bot>/, 'no prompts when piped');
  assert.match(stderr, /starting a local redis-server/, 'it started the Redis it needs');
});

test('a bad setting stops it with the one-screen list, before anything starts', async () => {
  const { code, stderr, stdout } = await chat('hello\n', { RFL_KNOWLEDGE_MAX_SOURCES: 'many' });
  assert.equal(code, 1);
  assert.match(stderr, /knowledge\.maxSources/);
  assert.equal(stdout, '');
});

test('!digest preview in the terminal shows the week so far from what was asked', async () => {
  const first = await chat('which bindgen does 6.1 need?\nhow do I make my cat like Rust drivers?\n', {
    RFL_DIGEST_ENABLED: 'true',
  });
  assert.equal(first.code, 0, first.stderr);
  const { code, stdout, stderr } = await chat('!digest preview\n', { RFL_DIGEST_ENABLED: 'true' });
  assert.equal(code, 0, stderr);
  assert.match(
    stdout,
    /^Preview of the digest so far \(\d{4}-W\d{2}\) — 📰 Rust-for-Linux week \d{4}-W\d{2}: \d+ questions?\b/m,
  );
  assert.match(stdout, /Most asked about:/);
  assert.match(stdout, /min-tool-version|Quick Start|Requirements/, 'topics name the docs sections');
});

/**
 * The two series through the terminal chat, as a newcomer types it: `node bot/main.ts chat` with its
 * embedded worker on the project's real prepared trees (the default config's cache dir), today's
 * rust_minimal.rs pasted as `!build` (built on 6.12) and as `!build --kernel 6.1` (❌ with the one-line
 * hint naming 6.12), then `!build --boot`, whose reply shows the module's init and exit lines.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { botWorkDir, spawnBot } from '../helpers/bot-process.ts';
import { privateRedis } from '../helpers/jobs.ts';
import { defaultConfig, preparedTree } from '../helpers/prepared-tree.ts';

const [tree612] = await Promise.all([preparedTree('6.12'), preparedTree('6.1')]);
const redis = await privateRedis();
after(() => redis.stop());

test('!build, !build --kernel 6.1 and !build --boot of the 6.12 sample in the terminal chat', async () => {
  const sample = readFileSync(join(tree612.sourceDir, 'samples', 'rust', 'rust_minimal.rs'), 'utf8');
  const fenced = (options: string, tag: string) =>
    `!build${options}\n\`\`\`rust\n${sample}// ${tag}\n\`\`\`\n`;
  const bot = spawnBot(botWorkDir('series'), ['chat'], {
    // The product's configuration, not the fixture tree: 6.12 the default, 6.1 beside it.
    KERNEL_SRC: '',
    RFL_CACHE_DIR: defaultConfig().cacheDir,
    RFL_REDIS_URL: redis.url,
    // Three builds from one user, queued at once.
    RFL_JOBS_PER_USER_CONCURRENT: '3',
  });
  bot.child.stdin?.end(fenced('', 'plain') + fenced(' --kernel 6.1', 'on 6.1') + fenced(' --boot', 'booted'));
  const code = await bot.exited;
  const out = bot.stdout();
  assert.equal(code, 0, bot.stderr().slice(-3000));
  assert.match(out, /^✅ built rust_minimal\.ko — Linux 6\.12\.\d+, rustc 1\.96\.0/m, out);
  assert.match(out, /^❌ \d+ errors, \d+ warnings? — Linux 6\.1\.\d+/m, out);
  assert.match(
    out,
    /^💡 `KVec`, `GFP_KERNEL` and module! with plain strings \(`name: "…"`\) are Linux 6\.12 APIs; this was built against 6\.1 — try `!build --kernel 6\.12`$/m,
  );
  assert.match(out, /^✅ built rust_minimal\.ko, loaded and unloaded cleanly — Linux 6\.12/m);
  assert.match(out, /rust_minimal: Rust minimal sample \(init\)/);
  assert.match(out, /rust_minimal: Rust minimal sample \(exit\)/);
  assert.doesNotMatch(bot.stderr(), /tar: /, 'no tar complaints on the terminal');
});

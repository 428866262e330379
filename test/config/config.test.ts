import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { formatProblems, loadConfig, settings } from '../../config/load.ts';
import { createLogger } from '../../config/logger.ts';
import { renderSampleConfig } from '../../config/sample.ts';

const tmp = mkdtempSync(join(tmpdir(), 'rfl-config-'));

test('defaults need no file and no environment', () => {
  const result = loadConfig({ env: { HOME: '/home/op' } });
  assert.ok(result.ok);
  assert.equal(result.config.redis.url, 'redis://127.0.0.1:6379');
  assert.equal(result.config.chat.commandPrefix, '!');
  assert.equal(result.config.cacheDir, '/home/op/.cache/rfl-onboard');
});

test('environment variables override the file, and types are converted', () => {
  const file = join(tmp, 'a.yaml');
  writeFileSync(file, 'llm:\n  model: from-file\n  timeoutMs: 5000\nknowledge:\n  maxSources: 2\n');
  const result = loadConfig({
    file,
    env: { RFL_LLM_MODEL: 'from-env', RFL_KNOWLEDGE_WHOLE_DOCUMENTATION: 'yes' },
  });
  assert.ok(result.ok);
  assert.equal(result.config.llm.model, 'from-env');
  assert.equal(result.config.llm.timeoutMs, 5000);
  assert.equal(result.config.knowledge.maxSources, 2);
  assert.equal(result.config.knowledge.wholeDocumentation, true);
});

test('secrets can be read from a *_FILE path', () => {
  const secret = join(tmp, 'key');
  writeFileSync(secret, 'sk-test-123\n');
  const result = loadConfig({ env: { RFL_LLM_API_KEY_FILE: secret } });
  assert.ok(result.ok);
  assert.equal(result.config.llm.apiKey, 'sk-test-123');
});

test('KERNEL_SRC names the default kernel tree', () => {
  const result = loadConfig({ env: { KERNEL_SRC: '/src/linux' } });
  assert.ok(result.ok);
  assert.equal(result.config.kernel.src, '/src/linux');
});

test('unknown and bad settings are all reported at once, with suggestions', () => {
  const file = join(tmp, 'bad.yaml');
  writeFileSync(file, 'llm:\n  modle: x\nknowledge:\n  maxSources: 99\nredsi: {}\n');
  const result = loadConfig({ file, env: { RFL_LLM_TIMEOUT_MS: 'soon', RFL_LOG_LEVL: 'debug' } });
  assert.equal(result.ok, false);
  const text = formatProblems(result.ok ? [] : result.problems);
  assert.match(text, /RFL_LOG_LEVL: unknown setting \(did you mean RFL_LOG_LEVEL\?\)/);
  assert.match(text, /llm\.modle: unknown setting \(did you mean llm\.model\?\)/);
  assert.match(text, /redsi: unknown setting \(did you mean redis/);
  assert.match(text, /knowledge\.maxSources: .*10/);
  assert.match(text, /llm\.timeoutMs: .*RFL_LLM_TIMEOUT_MS/);
  assert.ok(text.split('\n').length < 24, 'fits on one screen');
});

test('a digest schedule that is not cron, or a time zone that does not exist, stops with a clear message', () => {
  const file = join(tmp, 'digest.yaml');
  writeFileSync(file, 'digest:\n  schedule: "every monday"\n');
  const result = loadConfig({ file, env: { RFL_DIGEST_TIME_ZONE: 'Europe/Atlantis' } });
  assert.equal(result.ok, false);
  const text = formatProblems(result.ok ? [] : result.problems);
  assert.match(text, /digest\.schedule: "every monday" is not a cron expression .*"0 9 \* \* 1"/);
  assert.match(text, /digest\.timeZone: .*"Europe\/Atlantis" is not a time zone.*"UTC"/);
  assert.ok(!loadConfig({ env: { RFL_DIGEST_SCHEDULE: '0 9 * * 8' } }).ok, 'day of week 8 is out of range');

  for (const [schedule, timeZone] of [
    ['30 7 * * 1-5', 'Europe/Berlin'],
    ['@weekly', 'UTC'],
    ['0 18 * * FRI', 'America/New_York'],
  ]) {
    const good = loadConfig({ env: { RFL_DIGEST_SCHEDULE: schedule!, RFL_DIGEST_TIME_ZONE: timeZone! } });
    assert.ok(good.ok, `${schedule} in ${timeZone}`);
    assert.deepEqual([good.config.digest.schedule, good.config.digest.timeZone], [schedule, timeZone]);
  }
});

test('a config file that is not YAML is a clear problem, not a crash', () => {
  const file = join(tmp, 'broken.yaml');
  writeFileSync(file, 'llm: [unclosed\n');
  const result = loadConfig({ file, env: {} });
  assert.equal(result.ok, false);
  assert.match(result.ok ? '' : result.problems[0]!, /broken\.yaml/);
});

test('every setting has its own environment variable and a description', () => {
  const all = settings();
  assert.equal(new Set(all.map((s) => s.env)).size, all.length);
  for (const s of all) assert.ok(s.description.length > 10, `${s.path.join('.')} needs a description`);
});

test('the committed sample config is the one the schema generates, and it loads', () => {
  const committed = readFileSync(new URL('../../config/rfl-onboard.sample.yaml', import.meta.url), 'utf8');
  assert.equal(
    committed,
    renderSampleConfig(),
    'run `npm run config:sample > config/rfl-onboard.sample.yaml`',
  );
  const file = join(tmp, 'sample.yaml');
  writeFileSync(file, committed);
  assert.ok(loadConfig({ file, env: {} }).ok);
});

test('the logger redacts secrets wherever they appear', () => {
  let out = '';
  const destination = new Writable({
    write(chunk, _enc, done) {
      out += chunk;
      done();
    },
  });
  const log = createLogger({ logLevel: 'info', logFormat: 'json' }, { destination });
  log.info({ config: { llm: { apiKey: 'sk-secret-1' } }, client: { token: 'syt_secret_2' } }, 'hello');
  log.info({ config: { matrix: { accessToken: 'syt_m3', password: 'pw4' }, discord: { token: 'dc5' } } });
  log.info({ request: { headers: { Authorization: 'Bearer syt_h6' } }, login: { access_token: 'syt_l7' } });
  log.warn('GET https://hs.example/_matrix/media?access_token=syt_u8&x=1 failed');
  log.error({ err: new Error('401 with header Bearer syt_e9') }, 'sdk failure');
  log.warn({ config: { redis: { url: 'redis://rfl:pw10@redis:6379' } } }, 'queue');
  log.error({ err: new Error('connect to rediss://:pw11@redis.example:6380/0 failed') }, 'redis down');
  assert.match(out, /hello/);
  assert.match(out, /access_token=\[redacted\]&x=1/);
  assert.match(out, /sdk failure/);
  for (const secret of [
    'sk-secret-1',
    'syt_secret_2',
    'syt_m3',
    'pw4',
    'dc5',
    'syt_h6',
    'syt_l7',
    'syt_u8',
    'syt_e9',
    'pw10',
    'pw11',
  ])
    assert.ok(!out.includes(secret), `${secret} leaked`);
});

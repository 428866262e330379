/**
 * The local Redis the bot starts for itself takes the credentials in redis.url: a password for the
 * default user, or an ACL user; clients without them are refused, and a wrong password is reported as
 * such (not as "Redis does not answer"), without the password in the message.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ensureRedis } from '../../jobs/queue/local-redis.ts';
import { log } from '../helpers/jobs.ts';
import { freePort, shutdownRedis } from '../helpers/redis.ts';

const started: string[] = [];
after(async () => {
  for (const url of started) await shutdownRedis(url);
});

async function startWith(credentials: string): Promise<{ url: string; port: number; dir: string }> {
  const port = await freePort();
  const url = `redis://${credentials}@127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'rfl-redis-auth-'));
  const check = await ensureRedis({ url, startLocal: true, cacheDir: dir, log });
  assert.deepEqual(check, { ok: true, value: { started: true } });
  started.push(url);
  return { url, port, dir };
}

/** The error a command gets from `url`, or 'PONG'. */
async function pingAs(url: string): Promise<string> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let refusal = '';
  client.on('error', (error: Error) => {
    refusal ||= error.message;
  });
  try {
    await client.connect();
    return await client.ping();
  } catch (error) {
    return refusal || (error as Error).message;
  } finally {
    client.disconnect();
  }
}

test('a password in redis.url protects the local Redis it starts, and the queue works through it', async () => {
  const { url, port, dir } = await startWith(':s3cret%20pass');
  assert.match(await pingAs(`redis://127.0.0.1:${port}`), /NOAUTH/);
  assert.equal(await pingAs(url), 'PONG');
  // The password is in a file only root can read, not on redis-server's command line.
  assert.equal(statSync(join(dir, 'redis', 'redis.conf')).mode & 0o077, 0);
  const queue = new Queue('auth-check', { connection: { url }, prefix: 'rfltest' });
  await queue.add('job', { hello: 1 });
  assert.equal(await queue.count(), 1);
  await queue.obliterate({ force: true });
  await queue.close();
});

test('an ACL user in redis.url is the only way in; the default user is off', async () => {
  const { url, port } = await startWith('rfl:an0ther');
  assert.match(await pingAs(`redis://127.0.0.1:${port}`), /NOAUTH/);
  assert.match(await pingAs(`redis://:an0ther@127.0.0.1:${port}`), /WRONGPASS/);
  assert.equal(await pingAs(url), 'PONG');
});

test('wrong credentials are reported as refused, without the password and without starting another Redis', async () => {
  const { port } = await startWith(':right');
  const check = await ensureRedis({
    url: `redis://:wrong-guess@127.0.0.1:${port}`,
    startLocal: true,
    cacheDir: mkdtempSync(join(tmpdir(), 'rfl-redis-auth-')),
    log,
  });
  assert.equal(check.ok, false);
  assert.ok(!check.ok);
  assert.match(check.failure.logText, /refused the credentials in redis\.url/);
  assert.doesNotMatch(JSON.stringify(check.failure), /wrong-guess/);
});

/**
 * Makes sure Redis answers. When the configured URL is on loopback and nothing is listening, starts
 * Debian's redis-server as a daemon with append-only persistence under the cache dir, so the bot,
 * its workers and the tests share one local Redis that outlives any one process.
 *
 * Credentials in the URL (redis://:password@… or redis://user:password@…) are what the local server is
 * started with: `requirepass` for the default user, or an ACL user with the default user switched off.
 * They go into a 0600 config file under the cache dir, not onto redis-server's command line, where any
 * local user could read them in the process list.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Logger } from '../../config/logger.ts';
import type { Result } from '../../config/result.ts';

/** Redis answers; `started`: we started the local server for it. */
export type RedisCheck = Result<{ started: boolean }>;

/** Without Redis there is no job queue; the log line says what to fix. */
const unreachable = (logText: string): RedisCheck => ({
  ok: false,
  failure: { userText: 'Build jobs are off: I cannot reach my job queue right now.', logText },
});

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** 'refused': something answers but not to these credentials (a different fix from "start one"). */
type PingResult = 'ok' | 'down' | 'refused';

/** Redis's replies to a missing or wrong password (the reply codes, not their wording). */
const AUTH_ERROR = /^(?:NOAUTH|WRONGPASS)\b/;

async function ping(url: string): Promise<PingResult> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // A refused connection is the answer here, not an error to report. ioredis reports a rejected
  // password as an 'error' event and then rejects connect() with "Connection is closed".
  let refusedCredentials = false;
  client.on('error', (error: Error) => {
    if (AUTH_ERROR.test(error.message ?? '')) refusedCredentials = true;
  });
  try {
    await client.connect();
    return (await client.ping()) === 'PONG' ? 'ok' : 'down';
  } catch (error) {
    return refusedCredentials || AUTH_ERROR.test((error as Error).message ?? '') ? 'refused' : 'down';
  } finally {
    client.disconnect();
  }
}

/** A value in redis.conf: double-quoted, with the two characters that matter there escaped. */
const confValue = (text: string) => `"${text.replace(/[\\"]/g, '\\$&')}"`;

/** The local server's settings; the credentials lines only when the URL carries credentials. */
export function localRedisConf(url: URL, dir: string): string {
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const lines = [
    `port ${url.port || '6379'}`,
    'bind 127.0.0.1',
    `dir ${confValue(dir)}`,
    'appendonly yes',
    // Jobs, claims and ledgers must not be evicted to make room: a full Redis fails loudly instead.
    'maxmemory-policy noeviction',
    'daemonize yes',
    `logfile ${confValue(join(dir, 'redis.log'))}`,
  ];
  if (password !== '' && (user === '' || user === 'default'))
    lines.push(`requirepass ${confValue(password)}`);
  else if (password !== '') {
    lines.push(`user ${confValue(user)} on ${confValue(`>${password}`)} ~* &* +@all`, 'user default off');
  }
  return `${lines.join('\n')}\n`;
}

export async function ensureRedis(options: {
  url: string;
  startLocal: boolean;
  cacheDir: string;
  log: Logger;
}): Promise<RedisCheck> {
  const { url, startLocal, cacheDir, log } = options;
  const parsed = new URL(url);
  // The host only: the URL may carry credentials.
  const refused = unreachable(
    `Redis at ${parsed.host} refused the credentials in redis.url (see docs/operations.md, "Redis").`,
  );
  const first = await ping(url);
  if (first === 'ok') return { ok: true, value: { started: false } };
  if (first === 'refused') return refused;
  if (!startLocal || !LOOPBACK.has(parsed.hostname)) {
    return unreachable(`Redis at ${parsed.host} does not answer; start it or fix redis.url.`);
  }
  const dir = join(cacheDir, 'redis');
  await mkdir(dir, { recursive: true });
  const confPath = join(dir, 'redis.conf');
  await writeFile(confPath, localRedisConf(parsed, dir), { mode: 0o600 });
  await chmod(confPath, 0o600); // an older file keeps its mode through writeFile
  log.info({ port: parsed.port || '6379', dir }, 'starting a local redis-server');
  const child = spawn('redis-server', [confPath], { stdio: 'ignore' });
  const spawned = await new Promise<boolean>((resolve) => {
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
  if (!spawned) {
    return unreachable(
      "Could not start redis-server; install Debian's redis-server (scripts/bootstrap.sh does).",
    );
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    const answer = await ping(url);
    if (answer === 'ok') return { ok: true, value: { started: true } };
    if (answer === 'refused') return refused;
    await sleep(100);
  }
  return unreachable(
    `Started redis-server, but it does not answer on port ${parsed.port || '6379'}; see ${dir}/redis.log.`,
  );
}

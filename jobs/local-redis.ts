/**
 * Makes sure Redis answers. When the configured URL is on loopback and nothing is listening, starts
 * Debian's redis-server as a daemon with append-only persistence under the cache dir, so the bot,
 * its workers and the tests share one local Redis that outlives any one process.
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Logger } from '../config/logger.ts';

export type RedisCheck = { ok: true; started: boolean } | { ok: false; userMessage: string };

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

async function ping(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {}); // a refused connection is the answer here, not an error to report
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export async function ensureRedis(options: {
  url: string;
  startLocal: boolean;
  cacheDir: string;
  log: Logger;
}): Promise<RedisCheck> {
  const { url, startLocal, cacheDir, log } = options;
  if (await ping(url)) return { ok: true, started: false };
  const parsed = new URL(url);
  if (!startLocal || !LOOPBACK.has(parsed.hostname)) {
    return { ok: false, userMessage: `Redis at ${parsed.host} does not answer; start it or fix redis.url.` };
  }
  const dir = join(cacheDir, 'redis');
  await mkdir(dir, { recursive: true });
  const port = parsed.port || '6379';
  const args = ['--port', port, '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes'];
  args.push('--maxmemory-policy', 'noeviction', '--daemonize', 'yes', '--logfile', join(dir, 'redis.log'));
  log.info({ port, dir }, 'starting a local redis-server');
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const spawned = await new Promise<boolean>((resolve) => {
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
  if (!spawned) {
    return {
      ok: false,
      userMessage: "Could not start redis-server; install Debian's redis-server (scripts/bootstrap.sh does).",
    };
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await ping(url)) return { ok: true, started: true };
    await sleep(100);
  }
  return {
    ok: false,
    userMessage: `Started redis-server, but it does not answer on port ${port}; see ${dir}/redis.log.`,
  };
}

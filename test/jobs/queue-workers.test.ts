/**
 * Worker processes (`node jobs/worker.ts`) sharing one Redis: a worker killed mid-job and another taking
 * the job over with exactly one result delivered, and graceful shutdown on SIGTERM.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_QUEUE, type JobQueue } from '../../jobs/queue/queue.ts';
import {
  buildRequest,
  openQueue,
  origin,
  privateRedis,
  Recorder,
  slowModule,
  testConfig,
} from '../helpers/jobs.ts';
import { REPO } from '../helpers/paths.ts';
import { preparedTree } from '../helpers/prepared-tree.ts';

let redis: Awaited<ReturnType<typeof privateRedis>>;
let queue: JobQueue;
const children: ChildProcess[] = [];

before(async () => {
  await preparedTree();
  redis = await privateRedis();
  // The worker processes use the default queue; this Redis is the test's own.
  queue = await openQueue({ redisUrl: redis.url, ...DEFAULT_QUEUE }, testConfig());
});
after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await queue.close();
  await redis.stop();
});

interface WorkerProcess {
  child: ChildProcess;
  /** Settles when the log has a line with this message (e.g. "job started"). */
  logged(message: string): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

function worker(...args: string[]): WorkerProcess {
  const child = spawn(process.execPath, ['jobs/worker.ts', ...args], {
    cwd: REPO,
    env: {
      ...process.env,
      RFL_REDIS_URL: redis.url,
      RFL_JOBS_PREPARE_TREES_AT_START: 'false',
      // The slow module is written for 6.1 (test/helpers/jobs.ts testConfig).
      RFL_KERNEL_DEFAULT: '6.1',
      RFL_LOG_LEVEL: 'info',
      RFL_LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  const waiters: { message: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  let buffered = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    for (const text of complete) {
      if (!text.startsWith('{')) continue;
      const line = JSON.parse(text) as Record<string, unknown>;
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.message === line.msg)) waiter.resolve(line);
    }
  });
  return {
    child,
    logged: (message) => {
      const seen = lines.find((line) => line.msg === message);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ message, resolve }));
    },
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
  };
}

test('a worker killed mid-build: another takes the job over and the user gets exactly one result', async () => {
  const first = worker('--lock-seconds', '2');
  await first.logged('job worker started');
  const watcher = new Recorder();
  const submitted = await queue.submit(buildRequest(slowModule('killed', 15)), origin(), watcher);
  assert.ok(submitted.ok);
  await watcher.reached('building');
  await sleep(300);
  first.child.kill('SIGKILL');
  await first.exited;

  const second = worker('--lock-seconds', '2');
  const taken = await second.logged('job started');
  assert.equal(taken.jobId, submitted.jobId);
  const result = await watcher.finished;
  assert.equal(result.outcome, 'success', result.fullLog);
  // Any second delivery would come within a stalled-check interval or two.
  await sleep(2500);
  assert.equal(watcher.results.length, 1);
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0);
});

test('SIGTERM lets the running build finish, then the worker exits 0', async () => {
  const running = worker();
  await running.logged('job worker started');
  const watcher = new Recorder();
  assert.ok((await queue.submit(buildRequest(slowModule('graceful', 6)), origin('bob'), watcher)).ok);
  await watcher.reached('building');
  running.child.kill('SIGTERM');
  const result = await watcher.finished;
  assert.equal(result.outcome, 'success');
  assert.equal(await running.exited, 0);
});

test('past the grace period a running job goes back to the queue, and the next worker builds it', async () => {
  const leaving = worker('--grace-seconds', '0');
  await leaving.logged('job worker started');
  const watcher = new Recorder();
  const submitted = await queue.submit(buildRequest(slowModule('handed back', 6)), origin('carol'), watcher);
  assert.ok(submitted.ok);
  await watcher.reached('building');
  leaving.child.kill('SIGTERM');
  assert.equal(await leaving.exited, 0);
  assert.equal(await queue.queue.getJobState(submitted.jobId), 'waiting');
  assert.equal(watcher.results.length, 0, 'no result from the worker that left');

  const next = worker();
  const result = await watcher.finished;
  assert.equal(result.outcome, 'success');
  assert.equal(watcher.results.length, 1);
  next.child.kill('SIGTERM');
  assert.equal(await next.exited, 0);
});

/**
 * Results that are the user's, through the real queue (real Redis, a worker, the prepared tree): code that
 * crashes the compiler, and booted modules that print terminal controls or lie about crashing. Each is
 * answered once, as the user's result, and nothing in a reply or a log can drive the reader's terminal.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { JobQueue } from '../../jobs/queue/queue.ts';
import type { RunningWorker } from '../../jobs/run-worker.ts';
import {
  CONTROL_CHARACTER,
  deeplyNested,
  LOUD_PRINT,
  LYING_PRINT,
  withInit,
} from '../helpers/hostile-output.ts';
import {
  buildRequest,
  openQueue,
  origin,
  privateRedis,
  Recorder,
  startWorker,
  testConfig,
  uniqueLocation,
} from '../helpers/jobs.ts';
import { preparedTree } from '../helpers/prepared-tree.ts';

let redis: Awaited<ReturnType<typeof privateRedis>>;
let queue: JobQueue;
let worker: RunningWorker;

before(async () => {
  redis = await privateRedis();
  await preparedTree();
  const config = testConfig();
  const location = uniqueLocation(redis.url);
  queue = await openQueue(location, config);
  worker = await startWorker(location, config);
});
after(async () => {
  await worker.stop(0);
  await queue.close();
  await redis.stop();
});

async function run(request: ReturnType<typeof buildRequest>, user: string) {
  const watcher = new Recorder();
  const submission = await queue.submit(request, origin(user), watcher);
  assert.ok(submission.ok && submission.status === 'queued', JSON.stringify(submission));
  return { jobId: submission.jobId, result: await watcher.finished };
}

test('code that crashes the compiler: ❌ named with the signal, run once, and the same request reuses it', async () => {
  const request = buildRequest(deeplyNested());
  const { jobId, result } = await run(request, 'nesting');
  assert.equal(result.outcome, 'compile-error', result.summary);
  assert.match(
    result.summary,
    /^❌ the compiler crashed \(signal SIGSEGV\) on this code — Linux 6\.1\.\d+, rustc 1\.\d+\.\d+$/,
  );
  assert.match(result.body, /nesting/);
  assert.equal((await queue.queue.getJob(jobId))?.attemptsMade, 1, 'one try only');
  const again = await queue.submit(request, origin('nesting'), new Recorder());
  assert.ok(again.ok && again.status === 'cached' && again.jobId === jobId, JSON.stringify(again));
  assert.equal(again.result.summary, result.summary);
});

test('a booted module printing OSC 52, a title, BEL and CSI: the reply and the log carry none of it', async () => {
  const { jobId, result } = await run(buildRequest(withInit(LOUD_PRINT), { boot: true }), 'loud');
  assert.equal(result.outcome, 'success', result.fullLog);
  assert.ok(result.body.split('\n').includes('hello: clip title bell erase end'), result.body);
  const log = (await queue.result(jobId))?.fullLog ?? '';
  assert.match(log, /--- QEMU console ---/);
  for (const text of [result.summary, result.body, result.fullLog, log]) {
    assert.doesNotMatch(text, CONTROL_CHARACTER);
  }
});

test('a booted module printing a kernel panic and forged status lines: ✅ loaded and unloaded cleanly', async () => {
  const { result } = await run(buildRequest(withInit(LYING_PRINT), { boot: true }), 'liar');
  assert.match(result.fullLog, /^Kernel panic - not syncing: Fatal exception$/m, 'the lie was printed');
  assert.equal(result.outcome, 'success', result.fullLog);
  assert.match(result.summary, /^✅ built hello\.ko, loaded and unloaded cleanly — Linux 6\.1\./);
});

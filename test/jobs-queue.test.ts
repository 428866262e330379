/**
 * The job queue end to end in one process: real Redis, a real worker, real module builds against the
 * prepared tree. Results, reuse, limits, quota, cancellation and retries, as the chat user sees them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { refusalText } from '../jobs/limits.ts';
import type { JobQueue, Submission } from '../jobs/queue.ts';
import { kernelTools, type RunningWorker } from '../jobs/run-worker.ts';
import { KernelTrees } from '../jobs/trees.ts';
import {
  BAD_MODULE,
  buildRequest,
  GOOD_MODULE,
  log,
  openQueue,
  origin,
  privateRedis,
  Recorder,
  slowModule,
  startWorker,
  testConfig,
  uniqueLocation,
} from './helpers/jobs.ts';
import { preparedTree } from './helpers/prepared-tree.ts';

let redis: Awaited<ReturnType<typeof privateRedis>>;
const opened: { close(): Promise<void> }[] = [];
const workers: RunningWorker[] = [];

before(async () => {
  redis = await privateRedis();
  await preparedTree();
});
after(async () => {
  await Promise.all(workers.map((worker) => worker.stop(0)));
  await Promise.all(opened.map((queue) => queue.close()));
  await redis.stop();
});

async function setUp(jobs: Parameters<typeof testConfig>[0] = {}, withWorker = true) {
  const config = testConfig(jobs);
  const location = uniqueLocation(redis.url);
  const queue = await openQueue(location, config);
  opened.push(queue);
  if (withWorker) workers.push(await startWorker(location, config));
  return { queue, config, location };
}

function queued(submission: Submission): string {
  assert.ok(submission.ok && submission.status === 'queued', JSON.stringify(submission));
  return submission.jobId;
}

describe('builds through the queue', () => {
  let queue: JobQueue;
  before(async () => {
    ({ queue } = await setUp());
  });

  test('a good module: progress from queued to building, then ✅ with the kernel and toolchain', async () => {
    const watcher = new Recorder();
    const submission = await queue.submit(buildRequest(GOOD_MODULE), origin(), watcher);
    assert.ok(submission.ok && submission.status === 'queued');
    assert.match(submission.jobId, /^[a-z][a-z2-9]{4}$/);
    assert.equal(submission.position, 1);
    const result = await watcher.finished;
    assert.equal(result.outcome, 'success', result.fullLog);
    assert.match(
      result.summary,
      /^✅ built hello\.ko — Linux 6\.1\.\d+, rustc 1\.\d+\.\d+, bindgen 0\.\d+\.\d+$/,
    );
    assert.ok(watcher.steps.some((step) => step.stage === 'building'));
    assert.equal((await queue.result(submission.jobId))?.summary, result.summary, 'kept for !log');
  });

  test('a bad module: ❌ with the rustc error block, and not retried', async () => {
    const watcher = new Recorder();
    const jobId = queued(await queue.submit(buildRequest(BAD_MODULE), origin('bob'), watcher));
    const result = await watcher.finished;
    assert.equal(result.outcome, 'compile-error');
    assert.match(result.summary, /^❌ 1 error, 0 warnings — Linux 6\.1\.\d+, rustc 1\./);
    assert.match(result.body, /error\[E0308\]: mismatched types\n\s+--> hello\.rs:\d+:\d+/);
    assert.match(result.fullLog, /E0308/);
    assert.equal((await queue.queue.getJob(jobId))?.attemptsMade, 1, 'one try only');
  });

  test('the same request again reuses the result at once; another user gets a build of their own', async () => {
    const first = new Recorder();
    const firstId = queued(
      await queue.submit(buildRequest(`${GOOD_MODULE}// reuse\n`), origin('carol'), first),
    );
    await first.finished;
    const started = performance.now();
    // Trailing spaces and CRLF line ends do not make it a new request.
    const again = await queue.submit(
      buildRequest(`${GOOD_MODULE}// reuse  \n`.replace(/\n/g, '\r\n')),
      origin('carol'),
      new Recorder(),
    );
    const elapsed = performance.now() - started;
    assert.ok(again.ok && again.status === 'cached', JSON.stringify(again));
    assert.equal(again.jobId, firstId);
    assert.equal(again.result.outcome, 'success');
    assert.ok(elapsed < 100, `reused in ${elapsed.toFixed(0)} ms`);
    const other = await queue.submit(
      buildRequest(`${GOOD_MODULE}// reuse\n`),
      origin('dave'),
      new Recorder(),
    );
    assert.ok(other.ok && other.status === 'queued');
  });

  test('an identical request while the first runs follows that job, and both get the result', async () => {
    const first = new Recorder();
    const second = new Recorder();
    const source = slowModule('attach', 4);
    const jobId = queued(await queue.submit(buildRequest(source), origin('erin', 'room-a'), first));
    const attached = await queue.submit(buildRequest(source), origin('erin', 'room-b'), second);
    assert.ok(attached.ok && attached.status === 'attached', JSON.stringify(attached));
    assert.equal(attached.jobId, jobId);
    const [a, b] = await Promise.all([first.finished, second.finished]);
    assert.equal(a.outcome, 'success');
    assert.deepEqual(a, b);
  });
});

describe('limits and quota', () => {
  test('one job per user at a time, with the running job named', async () => {
    const { queue } = await setUp({ perUserConcurrent: 1 }, false);
    const firstId = queued(await queue.submit(buildRequest(GOOD_MODULE), origin(), new Recorder()));
    const refused = await queue.submit(buildRequest(BAD_MODULE), origin(), new Recorder());
    assert.ok(!refused.ok);
    assert.equal(
      refusalText(refused.refusal, '!'),
      `You have a build queued (${firstId}); I’ll take the next one when it finishes. (!cancel ${firstId} stops it.)`,
    );
    assert.ok((await queue.submit(buildRequest(BAD_MODULE), origin('bob'), new Recorder())).ok);
  });

  test('a room may have so many jobs at once', async () => {
    const { queue } = await setUp({ perRoomConcurrent: 2 }, false);
    queued(await queue.submit(buildRequest(GOOD_MODULE), origin('a'), new Recorder()));
    queued(await queue.submit(buildRequest(GOOD_MODULE), origin('b'), new Recorder()));
    const refused = await queue.submit(buildRequest(GOOD_MODULE), origin('c'), new Recorder());
    assert.ok(!refused.ok);
    assert.match(refusalText(refused.refusal, '!'), /^This room already has 2 jobs queued or running/);
    assert.ok((await queue.submit(buildRequest(GOOD_MODULE), origin('c', 'room-2'), new Recorder())).ok);
  });

  test('the daily quota counts jobs started, not reused results, and says when it resets', async () => {
    const { queue } = await setUp({ dailyQuota: 2, perUserConcurrent: 5 });
    const first = new Recorder();
    queued(await queue.submit(buildRequest(BAD_MODULE), origin(), first));
    await first.finished;
    assert.equal((await queue.submit(buildRequest(BAD_MODULE), origin(), new Recorder())).ok, true, 'reused');
    queued(await queue.submit(buildRequest(GOOD_MODULE), origin(), new Recorder()));
    const refused = await queue.submit(buildRequest(`${GOOD_MODULE}//3`), origin(), new Recorder());
    assert.ok(!refused.ok);
    assert.match(
      refusalText(refused.refusal, '!'),
      /^That’s 2 jobs today, your daily quota; it resets at 00:00 UTC \(in (\d+ h )?\d+ min\)\.$/,
    );
  });
});

describe('cancel', () => {
  test('a queued job is removed, its user told, and its watcher gets the end', async () => {
    const { queue } = await setUp({ perUserConcurrent: 3 }, false);
    const watcher = new Recorder();
    const jobId = queued(await queue.submit(buildRequest(GOOD_MODULE), origin(), watcher));
    assert.equal(
      await queue.cancel(jobId, 'mallory'),
      `Job ${jobId} was started by someone else; only they can cancel it.`,
    );
    assert.equal(await queue.cancel(jobId, 'alice'), `Cancelled job ${jobId} before it started.`);
    const result = await watcher.finished;
    assert.match(result.summary, /cancelled before it started/);
    assert.equal(await queue.queue.getJob(jobId), undefined);
    // Cancelled is not a result to reuse: the same request queues again.
    assert.ok((await queue.submit(buildRequest(GOOD_MODULE), origin(), new Recorder())).ok);
  });

  test('a running build is stopped through its AbortSignal', async () => {
    const { queue } = await setUp();
    const watcher = new Recorder();
    const jobId = queued(await queue.submit(buildRequest(slowModule('cancel')), origin(), watcher));
    await watcher.reached('building');
    await sleep(500);
    const started = performance.now();
    assert.match(
      await queue.cancel(jobId, 'alice'),
      /^Stopping job \w+; its result will say when it has stopped\.$/,
    );
    const result = await watcher.finished;
    const stoppedIn = performance.now() - started;
    assert.equal(result.summary, '⏹ cancelled');
    assert.ok(stoppedIn < 3000, `stopped ${stoppedIn.toFixed(0)} ms after the cancel`);
    assert.equal(await queue.cancel(jobId, 'alice'), `Job ${jobId} has already finished.`);
  });
});

test('an infrastructure failure is retried, and the user gets the one result of the retry', async () => {
  const config = testConfig();
  const location = uniqueLocation(redis.url);
  const queue = await openQueue(location, config);
  opened.push(queue);
  const real = kernelTools(new KernelTrees(config.cacheDir, log));
  let lookups = 0;
  workers.push(
    await startWorker(location, config, {
      tools: {
        ...real,
        // The first lookup finds no tree, as on a worker whose tree is not there yet.
        tree: async (series, onWait) =>
          ++lookups === 1
            ? { ok: false, userMessage: 'no tree yet', ourFault: true }
            : real.tree(series, onWait),
      },
    }),
  );
  const watcher = new Recorder();
  const jobId = queued(await queue.submit(buildRequest(GOOD_MODULE), origin(), watcher));
  const result = await watcher.finished;
  assert.equal(result.outcome, 'success');
  assert.equal(lookups, 2);
  assert.equal((await queue.queue.getJob(jobId))?.attemptsMade, 2, 'the first try and the retry');
  await sleep(200);
  assert.equal(watcher.results.length, 1);
});

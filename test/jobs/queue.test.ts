/**
 * The job queue end to end in one process: real Redis, a real worker, real module builds against the
 * prepared tree. Results, reuse, limits, quota, cancellation and retries, as the chat user sees them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { kernelPlan } from '../../jobs/kernel/kernel-source.ts';
import { CONFIG_FRAGMENT, type PreparedTree, treeKey } from '../../jobs/kernel/kernel-tree.ts';
import { KernelTrees } from '../../jobs/kernel/trees.ts';
import { refusalText } from '../../jobs/queue/limits.ts';
import type { JobQueue, Submission } from '../../jobs/queue/queue.ts';
import { kernelTools, type RunningWorker } from '../../jobs/run-worker.ts';
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
} from '../helpers/jobs.ts';
import { installTree, preparedTree } from '../helpers/prepared-tree.ts';

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

describe('booting through the queue', () => {
  let queue: JobQueue;
  before(async () => {
    ({ queue } = await setUp());
  });

  test('a --boot build reports building, then booting, then the module’s own kernel lines', async () => {
    const watcher = new Recorder();
    queued(await queue.submit(buildRequest(GOOD_MODULE, { boot: true }), origin('boot'), watcher));
    const result = await watcher.finished;
    assert.equal(result.outcome, 'success', result.fullLog);
    const stages = watcher.steps.map((step) => step.stage);
    const booting = watcher.steps.find((step) => step.stage === 'booting');
    assert.ok(booting, stages.join(' '));
    assert.ok(stages.indexOf('building') < stages.indexOf('booting'), stages.join(' '));
    assert.match(booting.detail ?? '', /^booting Linux 6\.1\.\d+ in QEMU to load hello\.ko$/);
    assert.match(
      result.summary,
      /^✅ built hello\.ko, loaded and unloaded cleanly — Linux 6\.1\.\d+, rustc 1\.\d+\.\d+, bindgen .* \(boot \d+\.\d s\)$/,
    );
    assert.deepEqual(
      result.body.split('\n').filter((line) => !/taints kernel/.test(line)),
      ['hello: Hello from Rust (init)', 'hello: Goodbye from Rust (exit)'],
    );
    assert.match(result.fullLog, /--- QEMU console ---/);
  });

  test('a sample job with boot: true builds and boots the in-tree rust_minimal sample', async () => {
    const watcher = new Recorder();
    const request = { kind: 'sample' as const, name: 'rust_minimal', boot: true, kernel: null };
    queued(await queue.submit(request, origin('sampler'), watcher));
    const result = await watcher.finished;
    assert.equal(result.outcome, 'success', result.fullLog);
    assert.ok(watcher.steps.some((step) => step.stage === 'booting'));
    assert.match(result.summary, /^✅ built rust_minimal\.ko, loaded and unloaded cleanly — Linux 6\.1\./);
    assert.deepEqual(
      result.body.split('\n').filter((line) => !/taints kernel/.test(line)),
      [
        'rust_minimal: Rust minimal sample (init)',
        'rust_minimal: Am I built-in? false',
        'rust_minimal: My numbers are [72, 108, 200]',
        'rust_minimal: Rust minimal sample (exit)',
      ],
    );
  });
});

describe('reuse follows the prepared tree, not the --kernel label', () => {
  let tree: PreparedTree;
  /** The key `npm run provision` gives the same kernel with one more sample in the config fragment. */
  let otherKey: string;
  const cacheDirs: string[] = [];
  before(async () => {
    tree = await preparedTree();
    otherKey = treeKey({
      kernelVersion: tree.kernelVersion,
      sourceDir: tree.sourceDir,
      configFragment: [...CONFIG_FRAGMENT, 'CONFIG_SAMPLE_RUST_PRINT=m'],
      versions: tree.environment,
    });
    assert.notEqual(otherKey, tree.key);
  });
  after(() => {
    for (const dir of cacheDirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A worker whose cache dir holds the prepared tree under its own key. */
  async function onTree(treeRefreshMs: number) {
    const cacheDir = mkdtempSync(join(tmpdir(), 'rfl-trees-'));
    cacheDirs.push(cacheDir);
    const installed = await installTree(tree, cacheDir, tree.key);
    const config = { ...testConfig(), cacheDir };
    const location = uniqueLocation(redis.url);
    const queue = await openQueue(location, config);
    opened.push(queue);
    const worker = await startWorker(location, config, { treeRefreshMs });
    workers.push(worker);
    /** Re-provisioning: the tree in `from` replaced by one under `key`; returns its dir. */
    const reprovision = async (from: string, key: string) => {
      await rm(from, { recursive: true, force: true });
      return installTree(tree, cacheDir, key);
    };
    return { queue, worker, installed, reprovision };
  }

  async function announced(queue: JobQueue, key: string) {
    for (let waited = 0; (await queue.trees.current(null)) !== key; waited += 100) {
      assert.ok(waited < 5000, `the worker never announced ${key}`);
      await sleep(100);
    }
  }

  test('after re-provisioning another tree, an identical request is built again, then reused there', async () => {
    const { queue, installed, reprovision } = await onTree(200);
    assert.equal(await queue.trees.current(null), tree.key, 'announced when the worker started');
    assert.equal(await queue.trees.current('6.1'), tree.key);
    const request = buildRequest(`${GOOD_MODULE}// tree identity\n`);
    const first = new Recorder();
    const firstId = queued(await queue.submit(request, origin(), first));
    assert.equal((await first.finished).treeKey, tree.key);
    const reused = await queue.submit(request, origin(), new Recorder());
    assert.ok(reused.ok && reused.status === 'cached' && reused.jobId === firstId, JSON.stringify(reused));

    await reprovision(installed, otherKey);
    await announced(queue, otherKey);
    const rebuilt = new Recorder();
    const secondId = queued(await queue.submit(request, origin(), rebuilt));
    assert.notEqual(secondId, firstId);
    const result = await rebuilt.finished;
    assert.equal(result.outcome, 'success', result.fullLog);
    assert.equal(result.treeKey, otherKey);
    const again = await queue.submit(request, origin(), new Recorder());
    assert.ok(again.ok && again.status === 'cached' && again.jobId === secondId, JSON.stringify(again));
    assert.equal(await queue.trees.current('6.1'), otherKey, '--kernel 6.1 names the same tree');
  });

  test('a job that ran on another tree than it was submitted for answers requests on that tree only', async () => {
    // No periodic refresh: the queue still believes in the first tree when the request comes in.
    const { queue, worker, installed, reprovision } = await onTree(3_600_000);
    const request = buildRequest(`${GOOD_MODULE}// submitted for one tree, built on another\n`);
    const moved = await reprovision(installed, otherKey);
    assert.equal(await queue.trees.current(null), tree.key);
    const watcher = new Recorder();
    const firstId = queued(await queue.submit(request, origin(), watcher));
    const result = await watcher.finished;
    assert.equal(result.outcome, 'success', result.fullLog);
    assert.equal(result.treeKey, otherKey);
    assert.equal(await queue.trees.current(null), otherKey, 'the job told the queue which tree it found');
    // It answers identical requests on the tree it was really built on...
    const reused = await queue.submit(request, origin(), new Recorder());
    assert.ok(reused.ok && reused.status === 'cached' && reused.jobId === firstId, JSON.stringify(reused));
    // ...but back on the first tree, the result built on the other one must not pass for it.
    await reprovision(moved, tree.key);
    await worker.jobWorker.refreshTrees();
    assert.equal(await queue.trees.current(null), tree.key);
    const again = await queue.submit(request, origin(), new Recorder());
    assert.ok(again.ok && again.status === 'queued', JSON.stringify(again));
    assert.notEqual(again.jobId, firstId);
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
  const plan = kernelPlan(config.kernel, config.cacheDir);
  assert.ok(plan.ok);
  const real = kernelTools(new KernelTrees(plan.value, config.cacheDir, log));
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

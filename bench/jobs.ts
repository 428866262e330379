/**
 * Benchmark of the build path, in one run (`npm run bench:jobs [-- --runs 5 --jobs 8 --kernel 6.12]
 * [--fresh-cache]`), on the default series' tree (6.12) unless --kernel names another:
 *  0. with --fresh-cache: the time from an empty cache dir to the first possible `!build` (toolchain and
 *     source fetched, the tree prepared up to modules_prepare, one module built; goal under 3 minutes on
 *     2 cores), and then to the first possible boot (bzImage), which the worker does in the background;
 *  1. the bare `make M=` build of the kernel's rust_minimal sample, no sandbox, no queue;
 *  2. the same module sent as `!build` through the chat router → queue (Redis) → worker → sandboxed
 *     build → result message, timed from the message to the result;
 *  3. jobs per minute with one and with two worker processes (`node jobs/worker.ts`, as operators scale
 *     out; each running jobs.concurrency jobs at a time, 1 by default).
 * Medians of alternating runs (the added time: of each chat run minus the bare run before it); every chat
 * run changes a comment so no result is reused.
 * Uses the configured Redis (started locally if needed) with a queue of its own, removed at the end.
 * Prints PASS or FAIL for the target (the chat path adds under 10% or under 300 ms to the bare build)
 * and exits 1 on FAIL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { MessageRef } from '../bot/chat/capabilities.ts';
import type { RichMessage } from '../bot/chat/rich-message.ts';
import { type ChatSurface, openReplyChannel } from '../bot/dispatch/reply-channel.ts';
import { createRouter } from '../bot/dispatch/router.ts';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { symbolCheckArgs } from '../jobs/build/build.ts';
import type { JobResult } from '../jobs/contracts.ts';
import { kernelPlan, type SeriesPlan } from '../jobs/kernel/kernel-source.ts';
import type { PreparedTree } from '../jobs/kernel/kernel-tree.ts';
import { makeArgs, makeEnv } from '../jobs/kernel/toolchain.ts';
import { provisionSeries } from '../jobs/kernel/trees.ts';
import { ensureRedis } from '../jobs/queue/local-redis.ts';
import { JobQueue, type QueueLocation } from '../jobs/queue/queue.ts';
import { runWorker } from '../jobs/run-worker.ts';
import type { KnowledgeService } from '../knowledge/answer-types.ts';

const log = pino({ level: 'warn' });
const SAMPLE = 'rust_minimal';
const REPO = fileURLToPath(new URL('..', import.meta.url));

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

async function bareBuild(tree: PreparedTree, source: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'rfl-bench-bare-'));
  try {
    await writeFile(join(dir, `${SAMPLE}.rs`), source);
    await writeFile(join(dir, 'Kbuild'), `obj-m := ${SAMPLE}.o\n`);
    const started = performance.now();
    const args = [
      '-C',
      tree.sourceDir,
      `O=${tree.buildDir}`,
      ...makeArgs(tree.toolchain),
      ...symbolCheckArgs(tree.buildDir),
      `M=${dir}`,
      'modules',
    ];
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn('make', args, { env: makeEnv(tree.toolchain), stdio: 'ignore' });
      child.on('close', resolve);
    });
    if (code !== 0) throw new Error(`bare make failed with ${code}`);
    return performance.now() - started;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The chat side: a router whose surface resolves when a result message (✅/❌) is sent. */
function chatPath(queue: JobQueue, config: Config, kernelOption: string) {
  const knowledge: KnowledgeService = {
    ask: async () => {
      throw new Error('no questions in this benchmark');
    },
    faq: () => [],
    kernelVersions: () => [],
  };
  const router = createRouter({ knowledge, chat: config.chat, log, jobs: { queue, limits: config.jobs } });
  let onResult: ((text: string) => void) | null = null;
  let jobId = '';
  const surface: ChatSurface = {
    platform: 'terminal',
    sender: {
      send: async (to, content: RichMessage): Promise<MessageRef> => {
        jobId = /\[job (\w+)\]/.exec(content.lead)?.[1] ?? jobId;
        if (/^[✅❌]/.test(content.lead)) onResult?.(content.lead);
        return { conversation: to, messageId: 'm' };
      },
      edit: async () => {},
    },
    track: () => {},
  };
  let n = 0;
  /** Milliseconds from message to result, and of those outside the worker's processing (the path's own cost). */
  return async (source: string): Promise<{ totalMs: number; outsideMs: number }> => {
    n += 1;
    const started = performance.now();
    const result = new Promise<string>((resolve) => {
      onResult = resolve;
    });
    const conversation = { roomId: 'bench' };
    await router.handle(
      {
        id: `bench-${n}`,
        conversation,
        author: { id: 'bench', name: 'bench' },
        text: `${config.chat.commandPrefix}build${kernelOption}\n\`\`\`rust\n${source}\n// run ${n}\n\`\`\``,
        isDirect: true,
        mentionsBot: false,
        attachments: [],
      },
      openReplyChannel(surface, { conversation, replyTo: `bench-${n}` }).channel,
    );
    const lead = await result;
    const totalMs = performance.now() - started;
    if (!lead.startsWith('✅')) throw new Error(`the chat build failed: ${lead}`);
    const processed = (await queue.result(jobId))?.durationMs ?? Number.NaN;
    return { totalMs, outsideMs: totalMs - processed };
  };
}

/** A `node jobs/worker.ts` process on the benchmark's queue, resolved once it takes jobs. */
async function workerProcess(
  location: QueueLocation,
): Promise<{ stop: () => Promise<void>; died: Promise<never> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['jobs/worker.ts', '--queue', location.queueName, '--prefix', location.prefix, '--grace-seconds', '0'],
    {
      cwd: REPO,
      env: {
        ...process.env,
        RFL_REDIS_URL: location.redisUrl,
        RFL_JOBS_PREPARE_TREES_AT_START: 'false',
        RFL_LOG_LEVEL: 'info',
        RFL_LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let buffered = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.includes('"job worker started"')) resolve();
        else if (/"level":(50|60)/.test(line)) process.stderr.write(`worker: ${line}\n`);
      }
    });
    void exited.then((code) => reject(new Error(`a worker process exited (${code}) before it started`)));
  });
  await ready;
  let stopping = false;
  const died = exited.then((code) => {
    if (!stopping) throw new Error(`a worker process exited (${code}) during the benchmark`);
    return new Promise<never>(() => {});
  });
  died.catch(() => {}); // observed through Promise.race below
  return {
    died,
    stop: async () => {
      stopping = true;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function throughput(
  queue: JobQueue,
  location: QueueLocation,
  workers: number,
  jobs: number,
  source: string,
): Promise<number> {
  const running = await Promise.all(Array.from({ length: workers }, () => workerProcess(location)));
  try {
    const started = performance.now();
    const results: Promise<JobResult>[] = [];
    for (let i = 0; i < jobs; i++) {
      const done = Promise.withResolvers<JobResult>();
      const submitted = await queue.submit(
        {
          kind: 'build',
          source: `${source}\n// ${workers} workers, job ${i} ${Date.now()}`,
          fileName: null,
          boot: false,
          kernel: null,
        },
        {
          userId: `user-${i}`,
          platform: 'terminal',
          room: `room-${i}`,
          conversation: `room-${i}`,
          isDirect: false,
        },
        { progress: () => {}, result: done.resolve },
      );
      if (!submitted.ok) throw new Error(JSON.stringify(submitted));
      results.push(done.promise);
    }
    const finished = await Promise.race([Promise.all(results), ...running.map((worker) => worker.died)]);
    const elapsedMin = (performance.now() - started) / 60_000;
    const failed = finished.filter((result) => result.outcome !== 'success');
    if (failed.length > 0) throw new Error(`${failed.length} jobs failed: ${failed[0]?.summary}`);
    return jobs / elapsedMin;
  } finally {
    await Promise.all(running.map((worker) => worker.stop()));
  }
}

/**
 * An empty cache dir to the first possible `!build` and then to the first possible boot, as a worker on a
 * fresh machine gets there: build-only tree first, bzImage after. Prints both times; true within 3 minutes.
 */
async function freshCache(kernel: Config['kernel'], series: string): Promise<boolean> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'rfl-bench-fresh-'));
  try {
    const fresh = seriesPlan(kernel, cacheDir, series);
    const started = performance.now();
    const steps: string[] = [];
    const buildOnly = await provisionSeries(fresh, {
      cacheDir,
      log,
      boot: false,
      onProgress: (text) => steps.push(`${((performance.now() - started) / 1000).toFixed(0)} s ${text}`),
    });
    if (!buildOnly.ok) throw new Error(buildOnly.failure.userText);
    const sample = await readFile(
      join(buildOnly.value.tree.sourceDir, 'samples', 'rust', `${SAMPLE}.rs`),
      'utf8',
    );
    await bareBuild(buildOnly.value.tree, sample);
    const firstBuild = (performance.now() - started) / 1000;
    const bootable = await provisionSeries(fresh, { cacheDir, log, boot: true });
    if (!bootable.ok) throw new Error(bootable.failure.userText);
    const firstBoot = (performance.now() - started) / 1000;
    console.log(`fresh cache → Linux ${series} (${buildOnly.value.tree.kernelVersion}), steps:`);
    for (const step of steps) console.log(`  ${step}`);
    console.log(`first possible !build after ${firstBuild.toFixed(0)} s (goal under 180 s)`);
    console.log(`first possible --boot after ${firstBoot.toFixed(0)} s (in the background)\n`);
    return firstBuild < 180;
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

/** The configured series named (or the default), its fetched things under `cacheDir`. */
function seriesPlan(kernel: Config['kernel'], cacheDir: string, series: string | undefined): SeriesPlan {
  const plan = kernelPlan(kernel, cacheDir);
  if (!plan.ok) throw new Error(plan.failure.userText);
  const wanted = series ?? plan.value.defaultSeries;
  const found = plan.value.series.find((candidate) => candidate.series === wanted);
  if (!found) throw new Error(`no series ${wanted} in kernel.trees`);
  return found;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      jobs: { type: 'string', default: '8' },
      kernel: { type: 'string' },
      'fresh-cache': { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  const jobCount = Number(values.jobs);
  const loaded = loadConfig();
  if (!loaded.ok) {
    console.error(loaded.problems.join('\n'));
    return 2;
  }
  const base = loaded.config;
  // The benchmark's own limits: many jobs from one "user" and room, no tree preparation at start.
  const config: Config = {
    ...base,
    jobs: {
      ...base.jobs,
      prepareTreesAtStart: false,
      perUserConcurrent: 100,
      perRoomConcurrent: 1000,
      dailyQuota: 100000,
    },
  };
  const series = seriesPlan(config.kernel, config.cacheDir, values.kernel);
  const freshWithin = values['fresh-cache'] ? await freshCache(config.kernel, series.series) : true;
  const prepared = await provisionSeries(series, { cacheDir: config.cacheDir, log });
  if (!prepared.ok) throw new Error(prepared.failure.userText);
  const { tree } = prepared.value;
  const redis = await ensureRedis({ ...config.redis, cacheDir: config.cacheDir, log });
  if (!redis.ok) throw new Error(redis.failure.logText);

  const location: QueueLocation = {
    redisUrl: config.redis.url,
    queueName: `bench-${process.pid}`,
    prefix: 'rflbench',
  };
  const queue = await JobQueue.open({ ...location, jobs: config.jobs, log });
  const sample = await readFile(join(tree.sourceDir, 'samples', 'rust', `${SAMPLE}.rs`), 'utf8');
  console.log(
    `Linux ${tree.kernelVersion}, ${tree.environment.rustc}; ${SAMPLE}.rs; ${runs} runs each, medians\n`,
  );

  let within = false;
  try {
    const worker = await runWorker({ config, location, log });
    const viaChat = chatPath(queue, config, values.kernel ? ` --kernel ${values.kernel}` : '');
    // Warm-up: the first build after start pays for cold caches on both paths.
    await bareBuild(tree, sample);
    await viaChat(sample);
    const bare: number[] = [];
    const chat: number[] = [];
    const outside: number[] = [];
    for (let i = 0; i < runs; i++) {
      bare.push(await bareBuild(tree, sample));
      const run = await viaChat(sample);
      chat.push(run.totalMs);
      outside.push(run.outsideMs);
    }
    await worker.stop(0);
    const bareMs = median(bare);
    const chatMs = median(chat);
    // Each chat run against the bare run just before it: load from other work on the machine drifts
    // slowly and mostly cancels out of a pair, not out of two separate medians.
    const added = median(chat.map((ms, i) => ms - (bare[i] ?? Number.NaN)));
    console.log('path                                         median      runs (ms)');
    console.log(
      `bare make M= (no sandbox, no queue)          ${bareMs.toFixed(0).padStart(6)} ms   ${bare.map((v) => v.toFixed(0)).join(' ')}`,
    );
    console.log(
      `!build: chat → queue → sandbox → result      ${chatMs.toFixed(0).padStart(6)} ms   ${chat.map((v) => v.toFixed(0)).join(' ')}`,
    );
    const allowed = Math.max(0.1 * bareMs, 300);
    within = added < allowed;
    console.log(
      `added: ${added.toFixed(0)} ms (median of paired differences; ${(chatMs - bareMs).toFixed(0)} ms between the medians, ratio ${(chatMs / bareMs).toFixed(3)})`,
    );
    console.log(
      `allowed: under ${allowed.toFixed(0)} ms (10% of the bare build or 300 ms, whichever is more)`,
    );
    console.log(
      `outside the worker's processing (chat, Redis, pickup, delivery): ${median(outside).toFixed(0)} ms median\n`,
    );

    const one = await throughput(queue, location, 1, jobCount, sample);
    const two = await throughput(queue, location, 2, jobCount, sample);
    console.log(
      `throughput, ${jobCount} builds, worker processes (node jobs/worker.ts, concurrency ${config.jobs.concurrency}):`,
    );
    console.log(
      `  1 process ${one.toFixed(1)} jobs/min   2 processes ${two.toFixed(1)} jobs/min (×${(two / one).toFixed(2)})\n`,
    );
    console.log(
      within
        ? `PASS: the chat → queue → sandbox → result path adds ${added.toFixed(0)} ms (< ${allowed.toFixed(0)} ms)`
        : `FAIL: the chat → queue → sandbox → result path adds ${added.toFixed(0)} ms (target < ${allowed.toFixed(0)} ms)`,
    );
  } finally {
    await queue.queue.obliterate({ force: true });
    await queue.close();
  }
  return within && freshWithin ? 0 : 1;
}

process.exitCode = await main();

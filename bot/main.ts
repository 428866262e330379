/**
 * Process entry point. `node bot/main.ts chat [--no-worker]` (what `npm start` runs): the bot as a chat in
 * this terminal, with a local Redis, the knowledge base built from whatever kernel tree it finds or
 * provisions, and the build queue with a job worker in the same process (--no-worker leaves the jobs to
 * `npm run worker` processes). The chat opens at once; questions typed while the index loads are
 * answered when it is ready.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatProblems, loadConfig } from '../config/load.ts';
import { createLogger } from '../config/logger.ts';
import type { Config } from '../config/schema.ts';
import { findKernelSource } from '../jobs/kernel-source.ts';
import { ensureRedis } from '../jobs/local-redis.ts';
import { DEFAULT_QUEUE, JobQueue } from '../jobs/queue.ts';
import { type RunningWorker, runWorker } from '../jobs/run-worker.ts';
import { loadKnowledgeBase } from '../knowledge/knowledge-base.ts';
import { createLlmPhraser } from '../knowledge/llm.ts';
import { createKnowledgeService } from '../knowledge/service.ts';
import { runTerminalChat } from './adapters/terminal.ts';
import { createRouter, type Router } from './router.ts';

/** At the end of the chat, a running job of the embedded worker gets this long before it is handed back. */
const WORKER_GRACE_MS = 5000;

async function chat(config: Config, embeddedWorker: boolean): Promise<void> {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  // A person at the terminal reads replies, not log lines: the log goes to a file there.
  mkdirSync(config.cacheDir, { recursive: true });
  const logFile = join(config.cacheDir, 'chat.log');
  const log = createLogger(config, interactive ? { interactive, file: logFile } : {});
  if (interactive)
    process.stdout.write(
      `rfl-onboard — ask about Rust in the Linux kernel; !help for commands. Log: ${logFile}\n`,
    );
  const { promise: router, resolve, reject } = Promise.withResolvers<Router>();
  const terminal = runTerminalChat({
    router,
    input: process.stdin,
    output: process.stdout,
    isTTY: interactive,
    log,
  });

  let jobQueue: JobQueue | null = null;
  let worker: RunningWorker | null = null;
  try {
    terminal.status('starting Redis…');
    const redis = await ensureRedis({ ...config.redis, cacheDir: config.cacheDir, log });
    if (!redis.ok) log.warn(redis.userMessage);
    if (redis.ok) {
      try {
        const location = { redisUrl: config.redis.url, ...DEFAULT_QUEUE };
        jobQueue = await JobQueue.open({ ...location, jobs: config.jobs, log });
        if (embeddedWorker) worker = await runWorker({ config, location, log });
      } catch (error) {
        // Questions still work without builds.
        log.error({ err: error }, 'the job queue failed to start; builds are unavailable');
      }
    }

    terminal.status('looking for a kernel source tree…');
    const source = await findKernelSource({ src: config.kernel.src, cacheDir: config.cacheDir, log });
    if (!source.ok) log.warn(source.userMessage);

    terminal.status('loading the knowledge base…');
    const kb = await loadKnowledgeBase(
      {
        kernelTrees: [...(source.ok ? [source.path] : []), ...config.kernel.extraTrees.map((t) => t.path)],
        markdownTrees: config.knowledge.markdownTrees,
        faqDir: config.knowledge.faqDir,
        wholeDocumentation: config.knowledge.wholeDocumentation,
      },
      { cacheDir: config.cacheDir, name: 'bot', log, onStatus: (text) => terminal.status(text) },
    );
    const knowledge = createKnowledgeService(kb, {
      knowledge: config.knowledge,
      llm: createLlmPhraser(config.llm, log),
      log,
    });
    const jobs = jobQueue ? { queue: jobQueue, limits: config.jobs } : null;
    resolve(createRouter({ knowledge, chat: config.chat, log, jobs }));
  } catch (error) {
    log.error({ err: error }, 'the knowledge base failed to load');
    reject(error);
  } finally {
    terminal.status(null);
  }
  await terminal.finished;
  await worker?.stop(WORKER_GRACE_MS);
  await jobQueue?.close();
  log.flush();
}

const loaded = loadConfig();
if (!loaded.ok) {
  console.error(formatProblems(loaded.problems));
  process.exit(1);
}
for (const warning of loaded.warnings) console.error(`warning: ${warning}`);

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { 'no-worker': { type: 'boolean', default: false } },
});
const command = positionals[0] ?? 'chat';
if (command === 'chat') {
  await chat(loaded.config, !values['no-worker']);
  // A kernel tree still being prepared in the background is abandoned (it resumes next start).
  process.exit(0);
} else {
  console.error(`usage: node bot/main.ts chat [--no-worker]   (unknown command "${command}")`);
  process.exit(2);
}

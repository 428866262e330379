/**
 * `npm run worker [-- --grace-seconds 30] [--lock-seconds 30]` (`node jobs/worker.ts`): a job worker
 * process. Start one per machine (or more) against the same Redis (redis.url) to scale out; SIGTERM or
 * SIGINT stops it gracefully: running jobs get the grace period to finish, then go back to the queue.
 * --lock-seconds: how soon another worker takes over the job of a worker that died.
 * --queue / --prefix: another queue than the bot's (the benchmark runs its own).
 */
import { parseArgs } from 'node:util';
import { formatProblems, loadConfig } from '../config/load.ts';
import { createLogger } from '../config/logger.ts';
import { ensureRedis } from './queue/local-redis.ts';
import { DEFAULT_QUEUE } from './queue/queue.ts';
import { runWorker } from './run-worker.ts';

const { values } = parseArgs({
  options: {
    'grace-seconds': { type: 'string', default: '30' },
    'lock-seconds': { type: 'string', default: '30' },
    queue: { type: 'string', default: DEFAULT_QUEUE.queueName },
    prefix: { type: 'string', default: DEFAULT_QUEUE.prefix },
  },
});
const graceMs = Number(values['grace-seconds']) * 1000;
const lockMs = Number(values['lock-seconds']) * 1000;
if (!(graceMs >= 0 && lockMs >= 1000) || !values.queue || !values.prefix) {
  console.error(
    'usage: node jobs/worker.ts [--grace-seconds 30] [--lock-seconds 30] [--queue jobs] [--prefix rfl]',
  );
  process.exit(2);
}

const loaded = loadConfig();
if (!loaded.ok) {
  console.error(formatProblems(loaded.problems));
  process.exit(1);
}
const { config } = loaded;
const log = createLogger(config);
for (const warning of loaded.warnings) log.warn(warning);

const redis = await ensureRedis({ ...config.redis, cacheDir: config.cacheDir, log });
if (!redis.ok) {
  log.fatal(redis.failure.logText);
  process.exit(1);
}
const worker = await runWorker({
  config,
  location: { redisUrl: config.redis.url, queueName: values.queue, prefix: values.prefix },
  log,
  lockDurationMs: lockMs,
  // Look for dead workers' jobs about as often as their locks expire.
  stalledIntervalMs: Math.min(lockMs, 30_000),
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, graceMs: graceMs }, 'stopping: finishing the running jobs');
    void worker.stop(graceMs).then(() => {
      log.flush();
      process.exit(0);
    });
  });
}

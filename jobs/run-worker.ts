/**
 * A worker as the bot runs it, embedded in the chat process (`npm start`) or alone (`npm run worker`):
 * kernel trees prepared in the background, the BullMQ worker, and a graceful stop.
 */
import type { Logger } from '../config/logger.ts';
import type { Config } from '../config/schema.ts';
import { bootModule } from './build/boot.ts';
import { buildModule, buildSample } from './build/build.ts';
import { checkConfig } from './doctor/check-config.ts';
import { type JobWorker, startJobWorker } from './job-worker.ts';
import { type KernelPlan, kernelPlan } from './kernel/kernel-source.ts';
import { KernelTrees } from './kernel/trees.ts';
import { createProcessor, type KernelTools } from './processor.ts';
import type { QueueLocation } from './queue/queue.ts';

export interface RunningWorker {
  jobWorker: JobWorker;
  trees: KernelTrees;
  /** Stops taking jobs, finishes (or after `graceMs` hands back) the running ones, closes its connections. */
  stop(graceMs: number): Promise<void>;
}

export function kernelTools(trees: KernelTrees): KernelTools {
  return {
    tree: (series, onWait) => trees.get(series, onWait),
    otherTrees: async (used) => (await trees.prepared()).filter((tree) => tree.series !== used.series),
    buildModule,
    buildSample,
    bootModule,
    checkConfig,
  };
}

export interface RunWorkerOptions {
  config: Config;
  location: QueueLocation;
  log: Logger;
  /** Tests shorten how soon a killed worker's job is taken over. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** How often the worker's trees are announced to the queue (default 10 s). */
  treeRefreshMs?: number;
  /** Replaces the real kernel tools (unit tests). */
  tools?: KernelTools;
}

/** The configured series; a KERNEL_SRC that is no kernel tree is logged and leaves none to serve. */
function servedSeries(config: Config, log: Logger): KernelPlan {
  const plan = kernelPlan(config.kernel, config.cacheDir);
  if (plan.ok) return plan.value;
  log.error(plan.failure.logText);
  return { defaultSeries: config.kernel.default, series: [] };
}

export async function runWorker(options: RunWorkerOptions): Promise<RunningWorker> {
  const { config, log } = options;
  const trees = new KernelTrees(servedSeries(config, log), config.cacheDir, log);
  // In the background: the worker takes jobs at once; those needing a tree wait for it.
  if (config.jobs.prepareTreesAtStart) trees.prepareAll();
  const jobWorker = await startJobWorker({
    ...options.location,
    concurrency: config.jobs.concurrency,
    resultTtlHours: config.jobs.resultTtlHours,
    process: createProcessor({ tools: options.tools ?? kernelTools(trees), limits: config.jobs }),
    log,
    ...(options.lockDurationMs ? { lockDurationMs: options.lockDurationMs } : {}),
    ...(options.stalledIntervalMs ? { stalledIntervalMs: options.stalledIntervalMs } : {}),
    treeKeys: () => trees.keys(),
    activityRetentionDays: config.activity.retentionDays,
    ...(options.treeRefreshMs ? { treeRefreshMs: options.treeRefreshMs } : {}),
  });
  // A tree prepared in the background: requests from now on are about it.
  trees.onReady(() => void jobWorker.refreshTrees());
  log.info(
    { queue: options.location.queueName, concurrency: config.jobs.concurrency, series: trees.series },
    'job worker started',
  );
  return {
    jobWorker,
    trees,
    async stop(graceMs) {
      await jobWorker.close(graceMs);
      log.info('job worker stopped');
    },
  };
}

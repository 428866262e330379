/**
 * The kernel trees the knowledge base indexes: every configured series side by side (found, and
 * unpacked when only its tarball is here, by the jobs side's own kernelPlan and ensureKernelSource), plus
 * the answer-only kernel.extraTrees. Nothing is downloaded at start-up: a series whose package is not
 * fetched yet is a problem to log (npm run provision fetches it), not a wait.
 */
import type { Logger } from '../config/logger.ts';
import type { Config } from '../config/schema.ts';
import { ensureKernelSource, type KernelConfig, kernelPlan } from '../jobs/kernel/kernel-source.ts';
import type { KnowledgeSources } from './knowledge-base.ts';

export interface KernelTreesToIndex {
  /** Source roots, the default series first. */
  roots: string[];
  /** The series a question naming no version is answered from, or null when the plan is invalid. */
  defaultSeries: string | null;
  /** Why a configured series is not indexed, one sentence each. */
  problems: string[];
}

export async function kernelTreesToIndex(
  kernel: KernelConfig,
  options: { cacheDir: string; log: Logger },
): Promise<KernelTreesToIndex> {
  const extra = kernel.extraTrees.map((tree) => tree.path);
  const plan = kernelPlan(kernel, options.cacheDir);
  if (!plan.ok) return { roots: extra, defaultSeries: null, problems: [plan.failure.userText] };
  const roots: string[] = [];
  const problems: string[] = [];
  for (const series of plan.value.series) {
    const source = await ensureKernelSource(series, { ...options, fetch: false });
    if (source.ok) roots.push(source.value);
    else problems.push(source.failure.userText);
  }
  return {
    roots: [...roots, ...extra.filter((root) => !roots.includes(root))],
    defaultSeries: plan.value.defaultSeries,
    problems,
  };
}

/** What the bot indexes: the configured kernel trees, Markdown trees and FAQ; a missing series is logged. */
export async function configuredSources(config: Config, log: Logger): Promise<KnowledgeSources> {
  const kernelTrees = await kernelTreesToIndex(config.kernel, { cacheDir: config.cacheDir, log });
  for (const problem of kernelTrees.problems) log.warn(problem);
  return {
    kernelTrees: kernelTrees.roots,
    defaultSeries: kernelTrees.defaultSeries,
    markdownTrees: config.knowledge.markdownTrees,
    faqDir: config.knowledge.faqDir,
    wholeDocumentation: config.knowledge.wholeDocumentation,
  };
}

/**
 * Turns a JobRequest into a JobResult with the kernel tools: build (and boot), sample, check-config.
 * Every result reads summary first: ✅/❌ and the kernel and toolchain it was checked against.
 */
import type { Config } from '../config/schema.ts';
import { plural } from '../config/words.ts';
import type { BootResult, bootModule } from './build/boot.ts';
import type { buildModule, buildSample, ModuleBuild } from './build/build.ts';
import { seriesHint } from './build/series-hint.ts';
import type { BuildEnvironment, JobRequest, JobResult } from './contracts.ts';
import type { checkConfig } from './doctor/check-config.ts';
import type { ProcessContext } from './job-worker.ts';
import type { PreparedTree } from './kernel/kernel-tree.ts';
import type { TreeLookup } from './kernel/trees.ts';

export interface KernelTools {
  tree(series: string | null, onWait: () => void): Promise<TreeLookup>;
  /** The prepared trees of the other configured series, where a failed build's names are looked up. */
  otherTrees(used: PreparedTree): Promise<PreparedTree[]>;
  buildModule: typeof buildModule;
  buildSample: typeof buildSample;
  bootModule: typeof bootModule;
  checkConfig: typeof checkConfig;
}

/** "Linux 6.1.192, rustc 1.63.0, bindgen 0.60.1": what every first line names. */
export function environmentLine(environment: BuildEnvironment, withBindgen = true): string {
  return [
    `Linux ${environment.kernelVersion}`,
    environment.rustc,
    ...(withBindgen ? [environment.bindgen] : []),
  ].join(', ');
}

const VERDICT_TEXT: Record<BootResult['verdict'], string> = {
  clean: 'loaded and unloaded cleanly',
  oops: 'the kernel oopsed',
  panic: 'the kernel panicked',
  warning: 'the kernel warned (a WARN fired)',
  died: 'the guest went down before insmod/rmmod returned',
  hang: 'the kernel hung (no progress before the boot time limit)',
  'insmod-failed': 'insmod failed',
  'rmmod-failed': 'rmmod failed',
};

export interface ProcessorOptions {
  tools: KernelTools;
  limits: Config['jobs'];
}

export function createProcessor({ tools, limits }: ProcessorOptions) {
  return async function processJob(request: JobRequest, context: ProcessContext): Promise<JobResult> {
    const started = Date.now();
    let treeKey: string | null = null;
    const finish = (parts: Omit<JobResult, 'jobId' | 'durationMs'>): JobResult => ({
      jobId: context.jobId,
      durationMs: Date.now() - started,
      ...parts,
      // Which tree this result holds for: reuse of it is limited to requests on the same tree.
      ...(treeKey ? { treeKey } : {}),
    });
    const lookup = await tools.tree(request.kernel, () => {
      void context.progress({ stage: 'preparing', detail: 'preparing the kernel tree' });
    });
    if (!lookup.ok) {
      return finish({
        outcome: lookup.ourFault ? 'infrastructure' : 'limit',
        environment: null,
        summary: `⚠️ ${lookup.userMessage}`,
        body: '',
        warnings: 0,
        errors: 0,
        fullLog: '',
      });
    }
    const { tree, bootLater } = lookup;
    treeKey = tree.key;

    if (request.kind === 'check-config') {
      await context.progress({ stage: 'checking', detail: `checking against Linux ${tree.kernelVersion}` });
      const report = await tools.checkConfig(request.text, tree, { limits, signal: context.signal });
      return finish({
        outcome: report.outcome,
        environment: tree.environment,
        summary: report.summary,
        body: report.body,
        warnings: 0,
        errors: 0,
        fullLog: report.log,
      });
    }

    await context.progress({ stage: 'building', detail: `building against Linux ${tree.kernelVersion}` });
    const buildOptions = {
      limits,
      signal: context.signal,
      onProgress: (detail: string) => void context.progress({ stage: 'building', detail }),
    };
    const build =
      request.kind === 'build'
        ? await tools.buildModule({ source: request.source, fileName: request.fileName }, tree, buildOptions)
        : await tools.buildSample(request.name, tree, buildOptions);
    try {
      const built = buildResult(build, context.signal);
      if (build.outcome === 'compile-error' && request.kind === 'build') {
        const others = await tools.otherTrees(tree);
        const hint = await seriesHint(build.diagnostics, request.source, tree, others);
        if (hint) return finish({ ...built, body: built.body ? `${hint}\n\n${built.body}` : hint });
      }
      if (build.outcome !== 'success' || !request.boot) return finish(built);
      if (!tree.bzImage || !build.koPath) {
        return finish({
          ...built,
          body: bootLater
            ? `Not booted yet: the Linux ${tree.series} kernel image is still being built on this worker (a few minutes, once); the module builds already. Ask again with --boot in a few minutes.`
            : 'Not booted: this worker’s kernel tree was prepared without a kernel image.',
        });
      }
      await context.progress({
        stage: 'booting',
        detail: `booting Linux ${tree.kernelVersion} in QEMU to load ${build.moduleName}.ko`,
      });
      const boot = await tools.bootModule({
        tree,
        koPath: build.koPath,
        moduleName: build.moduleName,
        limits,
        signal: context.signal,
      });
      return finish(bootResult(build, boot, context.signal));
    } finally {
      await build.cleanup();
    }
  };
}

type ResultParts = Omit<JobResult, 'jobId' | 'durationMs'>;

function stoppedSummary(message: string | null, signal: AbortSignal): string {
  return signal.aborted ? '⏹ cancelled' : `⛔ ${message ?? 'stopped by a limit'}`;
}

function buildResult(build: ModuleBuild, signal: AbortSignal): ResultParts {
  const environment = build.environment;
  const counts = { warnings: build.warnings, errors: build.errors, fullLog: build.log, environment };
  const ko = `${build.moduleName}.ko`;
  switch (build.outcome) {
    case 'success':
      return {
        ...counts,
        outcome: 'success',
        summary: `✅ built ${ko} — ${environmentLine(environment)}`,
        body: '',
      };
    case 'compile-error':
      if (build.silentFailure) {
        return {
          ...counts,
          outcome: 'compile-error',
          summary: `❌ ${build.silentFailure} — ${environmentLine(environment, false)}`,
          body: build.message ?? '',
        };
      }
      if (build.errors === 0 && build.message) {
        // Not the compiler's verdict: the request itself (an unknown sample) was not buildable.
        return { ...counts, outcome: 'compile-error', summary: `❌ ${build.message}`, body: '' };
      }
      return {
        ...counts,
        outcome: 'compile-error',
        summary: `❌ ${plural(build.errors, 'error')}, ${plural(build.warnings, 'warning')} — ${environmentLine(environment, false)}`,
        body:
          build.firstErrors +
          (build.omittedErrors > 0
            ? `\n\n… and ${plural(build.omittedErrors, 'more error')} in the log.`
            : ''),
      };
    case 'limit':
      return { ...counts, outcome: 'limit', summary: stoppedSummary(build.message, signal), body: '' };
    case 'infrastructure':
      return {
        ...counts,
        outcome: 'infrastructure',
        summary: `⚠️ The build could not run on my side: ${build.message ?? 'unknown failure'}`,
        body: '',
      };
  }
}

function bootResult(build: ModuleBuild, boot: BootResult, signal: AbortSignal): ResultParts {
  const environment = build.environment;
  const ko = `${build.moduleName}.ko`;
  const parts = {
    environment,
    warnings: build.warnings,
    errors: build.errors,
    fullLog: `${build.log}\n\n--- QEMU console ---\n${boot.console}`,
    body: boot.moduleLines.join('\n'),
  };
  const took = `(boot ${(boot.durationMs / 1000).toFixed(1)} s)`;
  switch (boot.outcome) {
    case 'success':
      return {
        ...parts,
        outcome: 'success',
        summary: `✅ built ${ko}, ${VERDICT_TEXT[boot.verdict]} — ${environmentLine(environment)} ${took}`,
      };
    case 'boot-failure':
      return {
        ...parts,
        outcome: 'boot-failure',
        summary: `❌ built ${ko}, but when loading it ${VERDICT_TEXT[boot.verdict]} — ${environmentLine(environment)} ${took}`,
      };
    case 'limit':
      return { ...parts, outcome: 'limit', summary: stoppedSummary(`the boot hit a limit ${took}`, signal) };
    case 'infrastructure':
      return {
        ...parts,
        outcome: 'infrastructure',
        summary: `⚠️ built ${ko}, but the boot could not run on my side`,
      };
  }
}

/**
 * The kernel series a deployment builds against, as configured (kernel.default, kernel.trees,
 * kernel.toolchains, KERNEL_SRC), and their source trees: a tree used as it is, a tarball unpacked once
 * under the cache dir, or a Debian linux-source package fetched first. Nothing is picked by what happens
 * to lie in /usr/src: a second tarball there or a leftover tree never changes what a series means.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Logger } from '../../config/logger.ts';
import type { Result } from '../../config/result.ts';
import type { Config } from '../../config/schema.ts';
import { fetchDebianKernelTarball, pathSafe, runTool } from './fetch.ts';
import { makeOnce } from './lock.ts';
import { type Toolchain, type ToolchainSpec, toolchainFor } from './toolchain.ts';
import { kernelSeries } from './version.ts';

export type KernelConfig = Config['kernel'];
type TreeSpec = KernelConfig['trees'][number];

export interface SeriesPlan {
  series: string;
  /** Where the source tree is, or will be once unpacked: what the knowledge side can index too. */
  sourceDir: string;
  spec: TreeSpec;
  toolchain: Toolchain;
  toolchainSpec: ToolchainSpec;
}

export interface KernelPlan {
  /** The series `!build` uses without --kernel. */
  defaultSeries: string;
  /** The default first, then as configured. */
  series: SeriesPlan[];
}

/** VERSION.PATCHLEVEL.SUBLEVEL from the top Makefile ("6.1.192"). */
export function readKernelVersionSync(sourceDir: string): string | null {
  try {
    const makefile = readFileSync(join(sourceDir, 'Makefile'), 'utf8');
    const field = (name: string) => makefile.match(new RegExp(`^${name}\\s*=\\s*(\\d+)`, 'm'))?.[1];
    const parts = [field('VERSION'), field('PATCHLEVEL'), field('SUBLEVEL')];
    return parts.every((part) => part !== undefined) ? parts.join('.') : null;
  } catch {
    return null;
  }
}

/** Where a tree spec's source is (a tarball's or package's unpacked under `<cacheDir>/kernels`). */
function sourceDirOf(spec: TreeSpec, cacheDir: string): string {
  if (spec.path) return spec.path;
  if (spec.tarball) return join(cacheDir, 'kernels', basename(spec.tarball).replace(/\.tar\.\w+$/, ''));
  return join(cacheDir, 'kernels', `linux-source-${spec.series}_${pathSafe(spec.debianSource)}`);
}

/**
 * The configured series, their sources and toolchains. KERNEL_SRC (kernel.src) is the one tree to serve
 * instead, built with the toolchain kernel.trees names for its series (else the default series').
 */
export function kernelPlan(kernel: KernelConfig, cacheDir: string): Result<KernelPlan> {
  let trees = kernel.trees;
  let defaultSeries = kernel.default;
  if (kernel.src) {
    const version = readKernelVersionSync(kernel.src);
    if (!version) {
      const text = `The configured kernel tree ${kernel.src} has no Makefile with a version; check kernel.src / KERNEL_SRC.`;
      return { ok: false, failure: { userText: text, logText: text } };
    }
    const series = kernelSeries(version);
    const toolchain =
      trees.find((tree) => tree.series === series)?.toolchain ??
      trees.find((tree) => tree.series === kernel.default)?.toolchain ??
      '';
    trees = [{ series, path: kernel.src, tarball: '', debianSource: '', toolchain }];
    defaultSeries = series;
  }
  const ordered = [...trees].sort(
    (a, b) => Number(b.series === defaultSeries) - Number(a.series === defaultSeries),
  );
  const series: SeriesPlan[] = [];
  for (const spec of ordered) {
    const toolchainSpec = kernel.toolchains[spec.toolchain];
    if (!toolchainSpec) {
      const text = `kernel.trees: series ${spec.series} names the toolchain "${spec.toolchain}", which kernel.toolchains does not have.`;
      return { ok: false, failure: { userText: text, logText: text } };
    }
    series.push({
      series: spec.series,
      sourceDir: sourceDirOf(spec, cacheDir),
      spec,
      toolchain: toolchainFor(spec.toolchain, toolchainSpec, cacheDir),
      toolchainSpec,
    });
  }
  return { ok: true, value: { defaultSeries, series } };
}

/** Unpacks a tarball's top folder to `target`, once; the tail of tar's complaints goes to the log only. */
async function unpackTarball(tarball: string, target: string, log: Logger): Promise<Result<void>> {
  return makeOnce(
    target,
    async (staging) => {
      log.info({ tarball, target }, 'unpacking the kernel source (once, about 20 s)');
      const unpacked = await runTool({
        command: 'tar',
        args: ['-C', staging, '--strip-components=1', '-xf', tarball],
      });
      if (unpacked.ok) return unpacked;
      log.error({ tarball, ...(unpacked.failure.detail as object) }, unpacked.failure.logText);
      const text = `Could not unpack ${tarball}; the log has tar's last lines.`;
      return { ok: false, failure: { ...unpacked.failure, userText: text } };
    },
    () => log.info({ target }, 'another process is unpacking this kernel source; waiting for it'),
  );
}

/**
 * The source tree of a configured series, unpacked (and for debianSource downloaded) when missing.
 * `fetch: false` (the knowledge side at start-up) never downloads: a series whose package is not fetched
 * yet is "not there".
 */
export async function ensureKernelSource(
  plan: SeriesPlan,
  options: { cacheDir: string; log: Logger; fetch: boolean },
): Promise<Result<string>> {
  const { spec, sourceDir } = plan;
  const { cacheDir, log } = options;
  const missing = (text: string): Result<string> => ({
    ok: false,
    failure: { userText: text, logText: text },
  });
  if (existsSync(join(sourceDir, 'Makefile'))) return { ok: true, value: sourceDir };
  if (spec.path) return missing(`The kernel tree ${spec.path} (series ${spec.series}) has no Makefile.`);
  let tarball = spec.tarball;
  if (spec.debianSource) {
    const dir = join(cacheDir, 'downloads', `linux-source-${spec.series}_${pathSafe(spec.debianSource)}`);
    tarball = join(dir, `linux-source-${spec.series}.tar.xz`);
    if (!existsSync(tarball)) {
      if (!options.fetch)
        return missing(`The Linux ${spec.series} source is not fetched yet (npm run provision).`);
      log.info({ series: spec.series, version: spec.debianSource }, 'downloading the kernel source package');
      const fetched = await fetchDebianKernelTarball(spec.series, spec.debianSource, dir, () =>
        log.info(
          { series: spec.series },
          'another process is downloading this kernel source; waiting for it',
        ),
      );
      if (!fetched.ok) return fetched;
    }
  }
  if (!existsSync(tarball)) {
    return missing(
      `No ${tarball} for Linux ${spec.series}: install its Debian package (scripts/bootstrap.sh does) or change kernel.trees.`,
    );
  }
  const unpacked = await unpackTarball(tarball, sourceDir, log);
  return unpacked.ok ? { ok: true, value: sourceDir } : unpacked;
}

/**
 * The source tree answers are indexed from: the default series', else the first configured series whose
 * source is here already (nothing is downloaded for this).
 */
export async function findKernelSource(options: {
  kernel: KernelConfig;
  cacheDir: string;
  log: Logger;
}): Promise<{ ok: true; path: string; series: string } | { ok: false; userMessage: string }> {
  const plan = kernelPlan(options.kernel, options.cacheDir);
  if (!plan.ok) return { ok: false, userMessage: plan.failure.userText };
  const reasons: string[] = [];
  for (const series of plan.value.series) {
    const source = await ensureKernelSource(series, {
      cacheDir: options.cacheDir,
      log: options.log,
      fetch: false,
    });
    if (source.ok) return { ok: true, path: source.value, series: series.series };
    reasons.push(source.failure.userText);
  }
  return { ok: false, userMessage: `No kernel source tree found. ${reasons.join(' ')}` };
}

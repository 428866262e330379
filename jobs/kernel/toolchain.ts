/**
 * The Rust toolchain a kernel series is built with, named in config (kernel.toolchains) and pinned on
 * every make call: absolute tool paths and a PATH with the system directories first, because a rustup
 * toolchain earlier on PATH is usually too new for an older kernel's vendored `alloc` (and has no
 * rust-src), and one rustc cannot serve both 6.1 (its target spec needs <= 1.7x) and 6.12.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Result } from '../../config/result.ts';
import type { Config } from '../../config/schema.ts';
import type { BuildEnvironment } from '../contracts.ts';
import { bindgenPrefix, fetchBindgen, fetchDebianRust, rustPrefix } from './fetch.ts';
import { parseMinToolVersions } from './min-tool-version.ts';
import { compareVersions, kernelSeries } from './version.ts';

const run = promisify(execFile);

export type ToolchainSpec = Config['kernel']['toolchains'][string];

export interface Toolchain {
  /** Its name in kernel.toolchains. */
  name: string;
  rustc: string;
  bindgen: string;
  clang: string;
  /** PATH for make and everything it starts (host and sandbox alike). */
  path: string;
  /** Host dirs of fetched tools: the sandbox binds them read-only at the same paths. */
  prefixes: string[];
}

const SYSTEM_PATH = '/usr/bin:/bin';

/** Where a configured toolchain's tools are (fetched ones under cacheDir), whether fetched yet or not. */
export function toolchainFor(name: string, spec: ToolchainSpec, cacheDir: string): Toolchain {
  const rust = spec.debianRust ? rustPrefix(cacheDir, spec.debianRust) : null;
  const bindgen = spec.bindgenCrate ? bindgenPrefix(cacheDir, spec.bindgenCrate) : null;
  return {
    name,
    rustc: rust ? join(rust, 'bin', 'rustc') : spec.rustc,
    bindgen: bindgen ? join(bindgen, 'bin', 'bindgen') : spec.bindgen,
    clang: spec.clang,
    path: SYSTEM_PATH,
    prefixes: [rust, bindgen].filter((prefix) => prefix !== null),
  };
}

/**
 * Fetches a toolchain's Debian rustc and crates.io bindgen into the cache (once; instant when there).
 * bindgen is built by the toolchain's own cargo-web, else by the `cargo` on the operator's PATH.
 */
export async function fetchToolchain(
  spec: ToolchainSpec,
  cacheDir: string,
  onWait: () => void,
): Promise<Result<void>> {
  if (spec.debianRust) {
    const rust = await fetchDebianRust(cacheDir, spec.debianRust, onWait);
    if (!rust.ok) return rust;
  }
  if (!spec.bindgenCrate) return { ok: true, value: undefined };
  const cargo = spec.debianRust
    ? { command: join(rustPrefix(cacheDir, spec.debianRust), 'bin', 'cargo'), path: SYSTEM_PATH }
    : { command: 'cargo', path: process.env.PATH ?? SYSTEM_PATH };
  return fetchBindgen(cacheDir, spec.bindgenCrate, cargo, onWait);
}

/** Make variables that pin the toolchain; HOSTRUSTC too, for the proc-macro and host programs. */
export function makeArgs(toolchain: Toolchain): string[] {
  return [
    'LLVM=1',
    `RUSTC=${toolchain.rustc}`,
    `HOSTRUSTC=${toolchain.rustc}`,
    `BINDGEN=${toolchain.bindgen}`,
  ];
}

/** The whole environment of a make call: nothing inherited, so no token or rustup setting leaks in. */
export function makeEnv(toolchain: Toolchain): Record<string, string> {
  return { PATH: toolchain.path, LC_ALL: 'C' };
}

/** The sandbox binds of a toolchain's fetched tools (read-only, at their host paths). */
export function toolchainBinds(toolchain: Toolchain): { host: string; inside: string }[] {
  return toolchain.prefixes.map((prefix) => ({ host: prefix, inside: prefix }));
}

async function firstLine(command: string): Promise<string> {
  try {
    const { stdout } = await run(command, ['--version'], { timeout: 10_000 });
    return stdout.split('\n')[0]?.trim() || 'unknown';
  } catch {
    return 'missing';
  }
}

/** What `--version` says for each tool ("rustc 1.63.0", "bindgen 0.60.1", "Debian clang version 14.0.6"). */
export async function toolchainVersions(
  toolchain: Toolchain,
): Promise<Omit<BuildEnvironment, 'kernelVersion'>> {
  const [rustc, bindgen, clang] = await Promise.all([
    firstLine(toolchain.rustc),
    firstLine(toolchain.bindgen),
    firstLine(toolchain.clang),
  ]);
  return { rustc, bindgen, clang };
}

/** "rustc 1.96.0 (…)" -> "1.96.0"; null when the tool did not say. */
function versionNumber(versionLine: string): string | null {
  return /\b(\d+\.\d+\.\d+)\b/.exec(versionLine)?.[1] ?? null;
}

/**
 * Whether a toolchain is new enough for a tree: the minimums in its config entry, else the tree's own
 * scripts/min-tool-version.sh (6.1 pins 1.62.0 / 0.56.0 there, and accepts newer with a warning).
 * A tree naming the wrong toolchain fails here, at provisioning, not in a newcomer's build.
 */
export async function checkMinimums(
  sourceDir: string,
  kernelVersion: string,
  toolchain: Toolchain,
  spec: Pick<ToolchainSpec, 'minRustc' | 'minBindgen'>,
  versions: Omit<BuildEnvironment, 'kernelVersion'>,
): Promise<Result<void>> {
  const script = await readFile(join(sourceDir, 'scripts', 'min-tool-version.sh'), 'utf8').catch(() => '');
  const fromTree = parseMinToolVersions(script);
  const wanted = { rustc: spec.minRustc || fromTree.rustc, bindgen: spec.minBindgen || fromTree.bindgen };
  const short: string[] = [];
  for (const tool of ['rustc', 'bindgen'] as const) {
    const minimum = wanted[tool];
    const have = versionNumber(versions[tool]);
    if (minimum && (!have || compareVersions(have, minimum) < 0)) {
      short.push(`${tool} >= ${minimum} (toolchain "${toolchain.name}" has ${have ?? versions[tool]})`);
    }
  }
  if (short.length === 0) return { ok: true, value: undefined };
  const text = `Linux ${kernelVersion} needs ${short.join(' and ')}: name a newer toolchain for series ${kernelSeries(kernelVersion)} in kernel.trees (docs/operations.md, "Adding a kernel version").`;
  return { ok: false, failure: { userText: text, logText: text, detail: { wanted, versions } } };
}

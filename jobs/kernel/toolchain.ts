/**
 * The Rust toolchain a kernel series is built with, named explicitly. A rustup toolchain earlier on PATH
 * is usually too new for an older kernel's vendored `alloc` (and has no rust-src), so every make call
 * passes absolute tool paths and a PATH with the system directories first.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BuildEnvironment } from '../contracts.ts';
import { kernelSeries } from './version.ts';

const run = promisify(execFile);

export interface Toolchain {
  /** Kernel series this toolchain is for ("6.1"). */
  series: string;
  rustc: string;
  bindgen: string;
  clang: string;
  /** PATH for make and everything it starts (host and sandbox alike). */
  path: string;
}

/** Debian 12's packages: rustc 1.63 + rust-src, bindgen 0.60, clang/lld 14 (6.1 asks for 1.62 / 0.56). */
const DEBIAN_SYSTEM_TOOLS = {
  rustc: '/usr/bin/rustc',
  bindgen: '/usr/bin/bindgen',
  clang: '/usr/bin/clang',
  path: '/usr/bin:/bin',
};

/**
 * The toolchain for a kernel version. Only the system toolchain is installed today, so every series gets
 * it; a newer tree that needs another rustc gets its own entry here.
 */
export function selectToolchain(kernelVersion: string): Toolchain {
  return { series: kernelSeries(kernelVersion), ...DEBIAN_SYSTEM_TOOLS };
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

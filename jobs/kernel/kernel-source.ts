/**
 * Finds the default kernel source tree: the configured one (kernel.src / KERNEL_SRC), else the newest
 * Debian linux-source-* tarball, unpacked once under the cache dir. Unpacking goes to a temporary
 * folder that is renamed into place, so an interrupted run never leaves a half tree behind.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../../config/logger.ts';

const run = promisify(execFile);

export type KernelSourceResult =
  | { ok: true; path: string; unpacked: boolean }
  | { ok: false; userMessage: string };

export interface KernelSourceOptions {
  /** An explicit tree (config kernel.src or KERNEL_SRC); empty to look for a Debian tarball. */
  src: string;
  cacheDir: string;
  /** Where Debian puts linux-source-* tarballs. */
  tarballDir?: string;
  log: Logger;
}

/** linux-source-6.1.tar.xz -> [6, 1], for picking the newest. */
function tarballVersion(name: string): number[] {
  return (name.match(/linux-source-([\d.]+)\.tar/)?.[1] ?? '0').split('.').map(Number);
}

function newerFirst(a: string, b: string): number {
  const [va, vb] = [tarballVersion(a), tarballVersion(b)];
  for (let i = 0; i < Math.max(va.length, vb.length); i++) {
    const d = (vb[i] ?? 0) - (va[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export async function findKernelSource(options: KernelSourceOptions): Promise<KernelSourceResult> {
  const { src, cacheDir, log } = options;
  if (src) {
    if (existsSync(join(src, 'Makefile'))) return { ok: true, path: src, unpacked: false };
    return {
      ok: false,
      userMessage: `The configured kernel tree ${src} has no Makefile; check kernel.src / KERNEL_SRC.`,
    };
  }
  const tarballDir = options.tarballDir ?? '/usr/src';
  const tarballs = existsSync(tarballDir)
    ? (await readdir(tarballDir))
        .filter((f) => /^linux-source-[\d.]+\.tar\.(xz|gz|bz2)$/.test(f))
        .sort(newerFirst)
    : [];
  const tarball = tarballs[0];
  if (!tarball) {
    return {
      ok: false,
      userMessage:
        "No kernel source tree found: set KERNEL_SRC to a kernel tree, or install Debian's linux-source-6.1 (scripts/bootstrap.sh does).",
    };
  }
  const name = basename(tarball).replace(/\.tar\.\w+$/, '');
  const kernels = join(cacheDir, 'kernels');
  const target = join(kernels, name);
  if (existsSync(join(target, 'Makefile'))) return { ok: true, path: target, unpacked: false };

  const staging = join(kernels, `.${name}.unpacking-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  log.info({ tarball: join(tarballDir, tarball), target }, 'unpacking the kernel source (once, about 20 s)');
  const started = Date.now();
  try {
    await run('tar', ['-C', staging, '-xf', join(tarballDir, tarball)], { maxBuffer: 16 * 1024 * 1024 });
    await rm(target, { recursive: true, force: true });
    await rename(join(staging, name), target);
  } catch (error) {
    log.error({ err: error, tarball }, 'unpacking the kernel source failed');
    return { ok: false, userMessage: `Could not unpack ${tarball}; see the log for details.` };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  log.info({ target, seconds: (Date.now() - started) / 1000 }, 'kernel source unpacked');
  return { ok: true, path: target, unpacked: true };
}

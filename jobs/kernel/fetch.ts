/**
 * Fetches what a configured series needs into the cache dir, never into the system: Debian packages are
 * downloaded (`apt-get download`) and unpacked (`dpkg-deb -x`) into private prefixes, because installing
 * rustc-web removes Debian's rustc 1.63 that 6.1 builds with, and installing a linux-source package adds
 * a tarball to /usr/src; bindgen-cli is `cargo install`ed from crates.io into a prefix of its own. Each
 * result is made once (jobs/kernel/lock.ts), so a second provisioning finds it at once.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Result } from '../../config/result.ts';
import { makeOnce } from './lock.ts';

/** The last lines a failed tool printed, enough to act on; never its whole output (tar can print 170 KB). */
const TAIL_CHARS = 2000;

export interface ToolRun {
  command: string;
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
}

/** Runs a tool; a failure is a value with the tail of what it printed. */
export function runTool(tool: ToolRun): Promise<Result<void>> {
  return new Promise((resolve) => {
    const child = spawn(tool.command, tool.args, {
      cwd: tool.cwd,
      env: tool.env ?? { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-TAIL_CHARS);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const fail = (why: string) =>
      resolve({
        ok: false,
        failure: {
          userText: `${tool.command} failed (${why})`,
          logText: `${tool.command} ${tool.args.join(' ')} failed (${why})`,
          detail: { tail },
        },
      });
    child.on('error', (error) => fail(error.message));
    child.on('close', (code, signal) =>
      code === 0 ? resolve({ ok: true, value: undefined }) : fail(signal ?? `exit ${code}`),
    );
  });
}

/** A path part from a Debian version: "1.96.0+dfsg1-1~deb12u2" -> "1.96.0_dfsg1-1_deb12u2" (make dislikes ~ and +). */
export function pathSafe(text: string): string {
  return text.replace(/[^\w.-]/g, '_');
}

/** `apt-get download` of exact versions into `dir` (an unprivileged download, nothing installed). */
async function aptDownload(packages: Record<string, string>, dir: string): Promise<Result<string[]>> {
  const specs = Object.entries(packages).map(([name, version]) => `${name}=${version}`);
  const downloaded = await runTool({ command: 'apt-get', args: ['download', '-q', ...specs], cwd: dir });
  if (!downloaded.ok) {
    return {
      ok: false,
      failure: {
        ...downloaded.failure,
        userText: `Could not download ${specs.join(' ')} (apt-get download; is apt-get update done and the version still offered?)`,
      },
    };
  }
  const debs = (await readdir(dir)).filter((file) => file.endsWith('.deb'));
  return { ok: true, value: debs.map((file) => join(dir, file)) };
}

/** "1.96.0+dfsg1-1~deb12u2" -> "1.96", the suffix of Debian's versioned std package. */
function rustMinor(debianVersion: string): string {
  return debianVersion.split('.').slice(0, 2).join('.');
}

export function rustPrefix(cacheDir: string, debianVersion: string): string {
  return join(cacheDir, 'toolchains', `rustc-web-${pathSafe(debianVersion)}`);
}

export function bindgenPrefix(cacheDir: string, crateVersion: string): string {
  return join(cacheDir, 'toolchains', `bindgen-${pathSafe(crateVersion)}`);
}

/**
 * rustc finds its sysroot from where librustc_driver was loaded: run from the prefix with the prefix's
 * libraries, its sysroot is `<prefix>/usr` and the kernel finds rust-src there. Paths relative to the
 * wrapper, so it works wherever the prefix is seen (the sandbox binds it at the same path anyway).
 * No --sysroot: the kernel passes its own.
 */
const RUSTC_WRAPPER = `#!/bin/sh
here=\${0%/*}
LD_LIBRARY_PATH="$here/../usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/../usr/bin/rustc" "$@"
`;

/** The same for cargo-web, which runs rustc through RUSTC (the wrapper). */
const CARGO_WRAPPER = `#!/bin/sh
here=\${0%/*}
RUSTC="$here/rustc" exec "$here/../usr/bin/cargo" "$@"
`;

/** Debian's rustc-web of one version, with std, rust-src and cargo-web, unpacked under cacheDir. */
export function fetchDebianRust(
  cacheDir: string,
  debianVersion: string,
  onWait: () => void,
): Promise<Result<void>> {
  const minor = rustMinor(debianVersion);
  return makeOnce(
    rustPrefix(cacheDir, debianVersion),
    async (staging) => {
      const downloads = join(staging, 'downloads');
      await mkdir(downloads);
      const debs = await aptDownload(
        Object.fromEntries(
          ['rustc-web', `libstd-rust-web-${minor}`, 'libstd-rust-web-dev', 'rust-web-src', 'cargo-web'].map(
            (name) => [name, debianVersion],
          ),
        ),
        downloads,
      );
      if (!debs.ok) return debs;
      for (const deb of debs.value) {
        const unpacked = await runTool({ command: 'dpkg-deb', args: ['-x', deb, staging] });
        if (!unpacked.ok) return unpacked;
      }
      await rm(downloads, { recursive: true, force: true });
      await mkdir(join(staging, 'bin'));
      for (const [name, text] of [
        ['rustc', RUSTC_WRAPPER],
        ['cargo', CARGO_WRAPPER],
      ] as const) {
        await writeFile(join(staging, 'bin', name), text);
        await chmod(join(staging, 'bin', name), 0o755);
      }
      return { ok: true, value: undefined };
    },
    onWait,
  );
}

/**
 * bindgen-cli of one version from crates.io, built with `cargo` (a fetched Debian cargo-web, or the one
 * on the operator's PATH for a toolchain of installed tools), its downloads kept under cacheDir.
 */
export function fetchBindgen(
  cacheDir: string,
  crateVersion: string,
  cargo: { command: string; path: string },
  onWait: () => void,
): Promise<Result<void>> {
  return makeOnce(
    bindgenPrefix(cacheDir, crateVersion),
    (staging) =>
      runTool({
        command: cargo.command,
        args: ['install', 'bindgen-cli', '--version', crateVersion, '--locked', '--root', staging],
        env: {
          PATH: cargo.path,
          HOME: cacheDir,
          CARGO_HOME: join(cacheDir, 'cargo-home'),
          CARGO_TARGET_DIR: join(staging, 'target'),
          LC_ALL: 'C',
        },
      }).then(async (installed) => {
        await rm(join(staging, 'target'), { recursive: true, force: true });
        return installed;
      }),
    onWait,
  );
}

/**
 * The source tarball of Debian's linux-source-<series> package of one version, put at `tarball`
 * (taken out of the .deb without installing it).
 */
export function fetchDebianKernelTarball(
  series: string,
  debianVersion: string,
  tarballDir: string,
  onWait: () => void,
): Promise<Result<void>> {
  const name = `linux-source-${series}`;
  return makeOnce(
    tarballDir,
    async (staging) => {
      const debs = await aptDownload({ [name]: debianVersion }, staging);
      if (!debs.ok) return debs;
      const [deb] = debs.value;
      const inner = `./usr/src/${name}.tar.xz`;
      const extracted = await runTool({
        command: 'sh',
        args: ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" "$3"', 'sh', deb ?? '', staging, inner],
      });
      if (!extracted.ok) return extracted;
      await rename(join(staging, inner), join(staging, `${name}.tar.xz`));
      await rm(join(staging, 'usr'), { recursive: true, force: true });
      await rm(deb ?? '', { force: true });
      return { ok: true, value: undefined };
    },
    onWait,
  );
}

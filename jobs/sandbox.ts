/**
 * Runs a command on hostile input with bubblewrap: no network, no host files beyond the system
 * directories a toolchain needs and the read-only binds asked for, one writable scratch directory at
 * /work, a scrubbed environment, an unprivileged uid and resource limits.
 *
 * Identity: run as root (the worker's usual case), bwrap keeps the initial user namespace and the command
 * drops to uid/gid 65534 with setpriv, so it is a real unprivileged user: root-only files stay unreadable
 * and RLIMIT_NPROC counts that uid's processes (sandboxes running at once on a machine share the budget).
 * A user namespace mapping root to 65534 would make every root-owned bind look like the sandbox's own and
 * leaves RLIMIT_NPROC unenforced. Run as another user, bwrap unshares a user namespace as that user (and
 * RLIMIT_NPROC then counts that user's processes).
 *
 * No nested user namespaces: in one, an unprivileged user is root again over a new mount namespace and can
 * mount an unsized tmpfs (escaping the scratch cap) or rearrange the filesystem. bwrap's --disable-userns
 * (user.max_user_namespaces=1 in the sandbox's own user namespace, then one more nested level, so the
 * kernel refuses any further one with ENOSPC) needs a user namespace of the sandbox's own. As root, a second,
 * unprivileged bwrap started by setpriv as 65534 makes one, mapping 65534 to itself (so files and
 * RLIMIT_NPROC still see the real uid 65534), binds the outer sandbox's root as it is and adds no other
 * namespace; as another user, the one bwrap unshares the user namespace and disables nested ones itself.
 *
 * Limits: CPU time, address space, processes and file size via prlimit on the command; wall time by
 * killing the process group (bwrap --die-with-parent takes the rest of the sandbox down with it); output
 * by counting bytes on the pipes. Disk: bwrap cannot size a bind mount, and a sized tmpfs at /work would
 * lose the built .ko with the sandbox, so /work is the host scratch dir under RLIMIT_FSIZE plus a size
 * check every half second (over the cap kills the run); /tmp is a tmpfs of the same size.
 */
import { spawn } from 'node:child_process';
import { type Dirent, existsSync } from 'node:fs';
import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface SandboxLimits {
  wallSeconds: number;
  cpuSeconds: number;
  /** Address space of each process. */
  memoryMb: number;
  processes: number;
  /** Largest file, and the size of /work (summed) and of /tmp. */
  fileSizeMb: number;
  outputBytes: number;
}

export interface SandboxSpec {
  command: string[];
  readOnly: { host: string; inside: string }[];
  /** Host directory, the only writable bind, mounted at /work. */
  scratch: string;
  cwd?: string;
  /** The only environment inside, besides PATH and HOME (which it may override). */
  env?: Record<string, string>;
  limits: SandboxLimits;
  signal?: AbortSignal;
}

export type LimitHit = 'wall' | 'cpu' | 'memory' | 'processes' | 'file-size' | 'output';

export interface SandboxRun {
  exitCode: number | null;
  signal: string | null;
  /** stdout and stderr interleaved, cut at outputBytes with a marker line. */
  output: string;
  truncated: boolean;
  limitHit: LimitHit | null;
  /** The run was stopped through spec.signal. */
  cancelled: boolean;
  /** Set when the sandbox itself could not run (bwrap missing…): our failure, not the command's. */
  infrastructure: string | null;
  durationMs: number;
}

export const SANDBOX_UID = 65534;
const TOOLS = { bwrap: '/usr/bin/bwrap', setpriv: '/usr/bin/setpriv', prlimit: '/usr/bin/prlimit' };
const SYSTEM_DIRS = ['/usr', '/bin', '/lib', '/lib64', '/etc/alternatives'];
const MB = 1024 * 1024;
const SIGXCPU = 24;
const SIGXFSZ = 25;
const DISK_CHECK_MS = 500;
/** bwrap 0.8's way to make the kernel refuse user namespaces inside the sandbox (needs --unshare-user). */
const NO_NESTED_USERNS = ['--disable-userns', '--assert-userns-disabled'];

export function outputMarker(limit: number): string {
  return `\n[output cut at ${limit} bytes]\n`;
}

/** Every directory on the way to `path`, outermost first ("/a/b/c" -> "/a", "/a/b"). */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let dir = dirname(path); dir !== '/'; dir = dirname(dir)) out.unshift(dir);
  return out;
}

function bwrapArgs(spec: SandboxSpec, asRoot: boolean): string[] {
  const { limits } = spec;
  const args = ['--die-with-parent', '--new-session', '--clearenv'];
  // As root: every namespace but the user one, so setpriv can become a real unprivileged uid.
  if (asRoot) {
    args.push('--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try');
    args.push(
      '--cap-drop',
      'ALL',
      '--cap-add',
      'CAP_SETUID',
      '--cap-add',
      'CAP_SETGID',
      '--cap-add',
      'CAP_SETPCAP',
    );
  } else {
    args.push('--unshare-all', '--unshare-user', ...NO_NESTED_USERNS);
  }
  const made = new Set<string>();
  const mkdirs = (path: string) => {
    for (const dir of ancestors(path)) {
      if (made.has(dir)) continue;
      made.add(dir);
      args.push('--perms', '0755', '--dir', dir);
    }
  };
  for (const dir of SYSTEM_DIRS.filter((d) => existsSync(d))) {
    mkdirs(dir);
    args.push('--ro-bind', dir, dir);
  }
  for (const bind of spec.readOnly) {
    mkdirs(bind.inside);
    args.push('--ro-bind', bind.host, bind.inside);
  }
  args.push('--proc', '/proc', '--dev', '/dev');
  args.push('--perms', '1777', '--size', String(limits.fileSizeMb * MB), '--tmpfs', '/tmp');
  args.push('--bind', spec.scratch, '/work', '--chdir', spec.cwd ?? '/work');
  const env = { PATH: '/usr/bin:/bin', HOME: '/tmp', ...spec.env };
  for (const [name, value] of Object.entries(env)) args.push('--setenv', name, value);

  const drop = asRoot
    ? [
        TOOLS.setpriv,
        `--reuid=${SANDBOX_UID}`,
        `--regid=${SANDBOX_UID}`,
        '--clear-groups',
        '--inh-caps=-all',
        '--bounding-set=-all',
        '--',
        // The unprivileged inner bwrap: a user namespace of the sandbox's own, nested ones disabled.
        TOOLS.bwrap,
        '--unshare-user',
        ...NO_NESTED_USERNS,
        '--dev-bind',
        '/',
        '/',
        '--die-with-parent',
        '--chdir',
        spec.cwd ?? '/work',
        '--',
      ]
    : [];
  const prlimit = [
    TOOLS.prlimit,
    // A soft CPU limit below the hard one: SIGXCPU first, which tells a CPU limit from other kills.
    `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 1}`,
    `--as=${limits.memoryMb * MB}`,
    `--nproc=${limits.processes}`,
    `--fsize=${limits.fileSizeMb * MB}`,
    '--',
  ];
  return [...args, ...drop, ...prlimit, ...spec.command];
}

/** Bytes under a directory (files only, symlinks not followed). */
async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await diskUsage(path);
    else if (entry.isFile()) total += (await lstat(path).catch(() => null))?.size ?? 0;
  }
  return total;
}

/**
 * Hands the scratch dir to the sandbox uid. lchown and Dirent types never follow symlinks, so a link
 * planted by an earlier run in the same dir cannot turn this into a chown of a host file.
 */
async function chownTree(dir: string, uid: number): Promise<void> {
  await lchown(dir, uid, uid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(path, uid);
    else await lchown(path, uid, uid);
  }
}

/** Lines a tool prints when a limit bit it; rustc's quoted source lines ("12 | ...") are not looked at. */
const LIMIT_MESSAGES: [LimitHit, RegExp][] = [
  ['cpu', /CPU time limit exceeded/],
  // ENOSPC is also how the kernel refuses a nested user namespace (unshare, clone): not a disk limit.
  ['file-size', /File size limit exceeded|^(?!.*\b(unshare|clone|namespace)).*No space left on device/],
  ['memory', /memory allocation of \d+ bytes failed|Cannot allocate memory|[Oo]ut of memory/],
  [
    'processes',
    /Cannot fork|fork: (retry: )?Resource temporarily unavailable|Resource temporarily unavailable/,
  ],
];

function limitFromExit(exitCode: number | null, output: string): LimitHit | null {
  if (exitCode === 0 || exitCode === null) return null;
  if (exitCode === 128 + SIGXCPU) return 'cpu';
  if (exitCode === 128 + SIGXFSZ) return 'file-size';
  const toolLines = output.split('\n').filter((line) => !/^\s*\d*\s*\|/.test(line));
  for (const [limit, pattern] of LIMIT_MESSAGES) {
    if (toolLines.some((line) => pattern.test(line))) return limit;
  }
  return null;
}

function notRun(infrastructure: string): SandboxRun {
  return {
    exitCode: null,
    signal: null,
    output: '',
    truncated: false,
    limitHit: null,
    cancelled: false,
    infrastructure,
    durationMs: 0,
  };
}

export async function runSandboxed(spec: SandboxSpec): Promise<SandboxRun> {
  const asRoot = process.getuid?.() === 0;
  const needed = asRoot ? [TOOLS.bwrap, TOOLS.setpriv, TOOLS.prlimit] : [TOOLS.bwrap, TOOLS.prlimit];
  const missing = needed.filter((tool) => !existsSync(tool));
  if (missing.length > 0) {
    return notRun(
      `The build sandbox is not available: ${missing.join(', ')} missing (install bubblewrap and util-linux; scripts/bootstrap.sh does). Nothing was run unsandboxed.`,
    );
  }
  if (spec.signal?.aborted) return { ...notRun(''), infrastructure: null, cancelled: true };
  if (asRoot) {
    try {
      await chownTree(spec.scratch, SANDBOX_UID);
      // bwrap enters /work with its capabilities already dropped: it needs the search bit, not more.
      await chmod(spec.scratch, 0o711);
    } catch (error) {
      return notRun(`The build sandbox could not use its scratch dir: ${(error as Error).message}`);
    }
  }

  const { limits } = spec;
  const started = Date.now();
  const child = spawn(TOOLS.bwrap, bwrapArgs(spec, asRoot), {
    detached: true, // its own process group, killed as a whole
    env: {},
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  let kept = 0;
  let truncated = false;
  let limitHit: LimitHit | null = null;
  let cancelled = false;

  const stop = (reason: LimitHit | 'cancel') => {
    if (reason === 'cancel') cancelled = true;
    else limitHit ??= reason;
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const take = (chunk: Buffer) => {
    if (truncated) return;
    const room = limits.outputBytes - kept;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      kept = limits.outputBytes;
      truncated = true;
      stop('output');
      return;
    }
    chunks.push(chunk);
    kept += chunk.length;
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);

  const wall = setTimeout(() => stop('wall'), limits.wallSeconds * 1000);
  const onAbort = () => stop('cancel');
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  let checking = false;
  const disk = setInterval(async () => {
    if (checking) return;
    checking = true;
    if ((await diskUsage(spec.scratch)) > limits.fileSizeMb * MB) stop('file-size');
    checking = false;
  }, DISK_CHECK_MS);

  const exit = await new Promise<{ code: number | null; signal: string | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(wall);
  clearInterval(disk);
  spec.signal?.removeEventListener('abort', onAbort);

  let output = Buffer.concat(chunks).toString('utf8');
  if (truncated) output += outputMarker(limits.outputBytes);
  if (exit.error) return { ...notRun(`The build sandbox could not start: ${exit.error.message}`), output };
  // bwrap's own complaints (a bind source missing…) come before the command runs.
  if (exit.code !== 0 && /^bwrap: /.test(output)) {
    return { ...notRun(`The build sandbox could not start: ${output.trim()}`), output };
  }
  if (!limitHit && !cancelled) limitHit = limitFromExit(exit.code, output);
  return {
    exitCode: exit.code,
    signal: exit.signal,
    output,
    truncated,
    limitHit,
    cancelled,
    infrastructure: null,
    durationMs: Date.now() - started,
  };
}

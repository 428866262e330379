/**
 * Runs a command on hostile input with bubblewrap: no network, no host files beyond the parts of the
 * system a build or a boot uses (systemPaths) and the read-only binds asked for, one writable scratch
 * directory at /work, a scrubbed environment, an unprivileged uid, a seccomp filter and resource limits.
 *
 * Host facts: a module reads files at compile time (include_str!, include_bytes!, #[path], global_asm!'s
 * .include/.incbin) and the assembler or a const panic quotes them, so whatever the sandbox shows is
 * readable by any chat user. Hence:
 * - /usr is not bound whole: /usr/local, /usr/src and most of /usr/share and /usr/lib stay out
 *   (systemPaths says what is in and why).
 * - /proc keeps the per-process entries and the few system-wide ones tools read (PROC_KEPT); every other
 *   top-level entry (cmdline, kallsyms, modules, config.gz, keys, partitions, iomem…) is mounted over:
 *   files by /dev/null, which reads as "Permission denied" (/proc is nodev), directories by an empty
 *   read-only tmpfs. /sys is not mounted.
 * - As root, each read-only bind is shown through a read-only overlay (overlayScript): a bind mount's
 *   line in /proc/<pid>/mountinfo names its source's path on the host, whatever bind it came through,
 *   and mountinfo is per process (no bind can cover every /proc/<pid>/mountinfo, and procfs options such
 *   as hidepid never hide a process's own entries), so the host path cannot be hidden at the file, only
 *   at the mount: the overlay's line shows "/" and the relative layer names it was given ("l0:empty").
 * Still visible, and why: the scratch dir's host path on /work's line (a writable bind; an overlay there
 *   would need its upper dir on a non-overlay filesystem, which a container's /tmp often is not), the
 *   host filesystem's device and mount options on every bind's line, /proc/sys (glibc and bwrap read
 *   it; it holds the host's boot id, kernel version and limits), and what the kernel tells any process
 *   (uname, CPUID, /proc/cpuinfo, meminfo). Run as another user than root, bwrap cannot mount overlays
 *   before it drops its capabilities, so the read-only binds' host paths show there too.
 *
 * System calls: the command runs under seccomp.ts's filter (installed by the bwrap that execs it, after
 * its own namespace setup), so it cannot mount, unshare, ptrace, load modules, use BPF, perf, keyrings,
 * io_uring or userfaultfd; those fail with EPERM. Other ABIs (i386, x32) are killed. Only x86_64 has a
 * table: elsewhere the command runs without a filter.
 *
 * Identity: run as root (the worker's usual case), bwrap keeps the initial user namespace and the command
 * drops with setpriv to a uid/gid of the run's own, SANDBOX_UID_BASE + a slot no other sandbox on the
 * machine holds at the time (a lock file per slot under SLOT_DIR, see leaseUid), so it is a real
 * unprivileged user owning nothing on the host: root-only files stay unreadable, and whatever the kernel
 * counts per uid (processes against RLIMIT_NPROC, inotify instances, pending signals…) is counted per run
 * rather than shared by every sandbox on the machine. The uid needs no passwd entry. A user namespace
 * mapping root to the sandbox uid would make every root-owned bind look like the sandbox's own and leaves
 * RLIMIT_NPROC unenforced. Run as another user, bwrap unshares a user namespace as that user (and the
 * kernel's per-uid counts are then that user's).
 *
 * No nested user namespaces: in one, an unprivileged user is root again over a new mount namespace and can
 * mount an unsized tmpfs (escaping the scratch cap) or rearrange the filesystem. bwrap's --disable-userns
 * (user.max_user_namespaces=1 in the sandbox's own user namespace, then one more nested level, so the
 * kernel refuses any further one with ENOSPC) needs a user namespace of the sandbox's own. As root, a second,
 * unprivileged bwrap started by setpriv as the run's uid makes one, mapping that uid to itself (so files
 * and RLIMIT_NPROC still see the real uid), binds the outer sandbox's root as it is and adds no other
 * namespace; as another user, the one bwrap unshares the user namespace and disables nested ones itself.
 *
 * Limits: CPU time, address space, processes and file size via prlimit on the command; wall time by
 * killing the process group (bwrap --die-with-parent takes the rest of the sandbox down with it); output
 * by counting bytes on the pipes. Disk: bwrap cannot size a bind mount, and a sized tmpfs at /work would
 * lose the built .ko with the sandbox, so /work is the host scratch dir under RLIMIT_FSIZE plus a size
 * check every half second (over the cap kills the run); /tmp is a tmpfs of the same size.
 *
 * Memory: RLIMIT_AS is per process, so N processes could hold N times the limit, and cgroups are not
 * ours to use. A watchdog sums, every MEMORY_CHECK_MS, the memory the whole run holds (runMemoryKb: the
 * anonymous and shmem pages resident in each of its processes, found through the sandbox's own /proc,
 * which lists exactly its pid namespace, daemonized processes included; plus what /tmp holds) and kills
 * the run like the wall-time limit when the sum passes the limit. RLIMIT_AS stays as the backstop for a
 * single process growing faster than the watchdog looks. Not seen: memory no process maps (SysV shm
 * segments left unattached, memfds held only by a descriptor, pipe and socket buffers).
 */

import { spawn } from 'node:child_process';
import {
  type Dirent,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  statfsSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Config } from '../../config/schema.ts';
import { seccompProgram } from './seccomp.ts';

export interface SandboxLimits {
  wallSeconds: number;
  cpuSeconds: number;
  /** Memory of the whole run (resident, all its processes together), and address space of each process. */
  memoryMb: number;
  processes: number;
  /** Largest file, and the size of /work (summed) and of /tmp. */
  fileSizeMb: number;
  outputBytes: number;
}

/** The job settings a compile-like run is held to: a module build, or olddefconfig for `!check-config`. */
export type CompileLimits = Pick<
  Config['jobs'],
  'buildTimeoutSeconds' | 'memoryLimitMb' | 'maxProcesses' | 'scratchLimitMb' | 'maxOutputKb'
>;

/** Those settings as sandbox limits: the build timeout is the budget of wall time and of CPU time alike. */
export function compileLimits(limits: CompileLimits): SandboxLimits {
  return {
    wallSeconds: limits.buildTimeoutSeconds,
    cpuSeconds: limits.buildTimeoutSeconds,
    memoryMb: limits.memoryLimitMb,
    processes: limits.maxProcesses,
    fileSizeMb: limits.scratchLimitMb,
    outputBytes: limits.maxOutputKb * 1024,
  };
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

/**
 * Run as root, each run gets uid (and gid) SANDBOX_UID_BASE + slot. The range is in what systemd lists
 * as unused (1879048192-2147352575): above /etc/subuid's default ranges (100000-600100000), so no
 * rootless container's uids are the sandbox's, and below 2^31.
 */
export const SANDBOX_UID_BASE = 2_000_000_000;
export const SANDBOX_UID_SLOTS = 1024;
/** One lock file per slot in use, shared by every worker process on the machine (root-only). */
const SLOT_DIR = existsSync('/run') ? '/run/rfl-sandbox-uids' : '/tmp/rfl-sandbox-uids';
const TOOLS = { bwrap: '/usr/bin/bwrap', setpriv: '/usr/bin/setpriv', prlimit: '/usr/bin/prlimit' };
/** Top-level links of a merged-/usr system, recreated as links (a bind would bring in all of /usr/lib). */
const MERGED_USR_LINKS = ['/bin', '/lib', '/lib64'];
/**
 * /proc entries kept: the per-process directories (under self and thread-self too), and what the traced
 * tools read (stat: QEMU and glibc's CPU count; filesystems: libselinux; sys: glibc and bwrap's
 * --disable-userns) or commonly read to size themselves (meminfo, cpuinfo, uptime, loadavg, version: what
 * uname and CPUID tell anyway). Every other top-level entry is masked; see the opening comment.
 */
const PROC_KEPT = new Set([
  'self',
  'thread-self',
  'sys',
  'filesystems',
  'stat',
  'meminfo',
  'cpuinfo',
  'uptime',
  'loadavg',
  'version',
]);
/**
 * Root-only dir where the read-only binds' overlays are put together; what stays of it is the empty
 * second layer every overlay needs (removing it would empty their directory listings).
 */
const STAGING = '/.rfl-binds';
/** The sandbox's fd from which the inner bwrap reads the seccomp filter. */
const SECCOMP_FD = 3;
const MB = 1024 * 1024;
const SIGXCPU = 24;
const SIGXFSZ = 25;
const DISK_CHECK_MS = 500;
const MEMORY_CHECK_MS = 150;
/** How long a killed run's processes may take to die before the run is reported (and its uid freed). */
const DRAIN_MS = 2000;
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

/**
 * The parts of the system a build or a boot uses, found by tracing both (strace -f -e trace=%file on
 * `make M=` against the prepared tree and on QEMU booting it): /usr/bin (make, the shell, coreutils,
 * rustc, bindgen, clang/lld/llvm-*, gcc/binutils, qemu-system-x86_64); the shared libraries (libc,
 * libLLVM, libclang for bindgen, QEMU's accelerator modules) and the loader link in /usr/lib64;
 * LLVM's tree (clang's resource headers, which bindgen needs too); gcc's (cc1, crt files) for a
 * gcc-built tree; rustc's sysroot (/usr/lib/rustlib) and the rust-src it links to, which rustc quotes
 * in diagnostics pointing into core; /usr/lib/os-release (clang's distribution probe); QEMU's firmware
 * (qboot, linuxboot_dma, kvmvapic, and the vgabios it links into seabios); /etc/alternatives (awk and cc
 * are links through it). Busybox is packed into the initramfs outside the sandbox. Left out: /usr/local,
 * /usr/src but rust-src, /usr/share but QEMU's firmware and bison's skeletons, /usr/sbin, /usr/games and
 * the rest of /usr/lib (other software of the host). libc's headers (/usr/include) and bison's data are
 * in for `!check-config`: its olddefconfig builds kconfig's host tools (fixdep, conf and its parser) in
 * the scratch dir, as the prepared tree's copies record host paths that make would rebuild them for.
 */
function systemPaths(): string[] {
  const usrLib = existsSync('/usr/lib') ? readdirSync('/usr/lib') : [];
  const rustSrc = (() => {
    try {
      return [realpathSync('/usr/lib/rustlib/src/rust')];
    } catch {
      return [];
    }
  })();
  return [
    '/usr/bin',
    ...usrLib.filter((name) => /-linux-gnu$|^llvm-\d+$/.test(name)).map((name) => `/usr/lib/${name}`),
    '/usr/lib64',
    '/usr/lib/gcc',
    '/usr/lib/rustlib',
    ...rustSrc,
    '/usr/lib/os-release',
    '/usr/include',
    '/usr/share/bison',
    '/usr/share/qemu',
    '/usr/share/seabios',
    '/etc/alternatives',
  ].filter((path) => existsSync(path));
}

/** bwrap arguments for the system part of the sandbox's root (the same for every run). */
let systemLayout: string[] | null = null;

/** bwrap --dir for every directory on the way to each path (0755: bwrap would make them 0700 root). */
function dirArgs(paths: string[]): string[] {
  const dirs = new Set(paths.flatMap(ancestors));
  return [...dirs].flatMap((dir) => ['--perms', '0755', '--dir', dir]);
}

function systemArgs(): string[] {
  if (systemLayout) return systemLayout;
  const paths = systemPaths();
  const args: string[] = [...dirArgs(paths)];
  for (const top of MERGED_USR_LINKS) {
    const stat = lstatSync(top, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) args.push('--symlink', readlinkSync(top), top);
    // Before the /usr merge, /bin and /lib hold the shell and libc themselves.
    else if (stat?.isDirectory()) args.push('--ro-bind', top, top);
  }
  for (const path of paths) args.push('--ro-bind', path, path);
  systemLayout = args;
  return args;
}

/**
 * Masks for the sandbox's /proc: every top-level entry but PROC_KEPT and the per-process ones, files
 * under /dev/null, directories under an empty read-only tmpfs. Symlinks (mounts, net) point into the
 * reader's own /proc/<pid>, which cannot be mounted over.
 */
let procLayout: string[] | null = null;

function procMaskArgs(): string[] {
  if (procLayout) return procLayout;
  const args: string[] = [];
  for (const entry of readdirSync('/proc', { withFileTypes: true })) {
    if (isPid(entry.name) || PROC_KEPT.has(entry.name) || entry.isSymbolicLink()) continue;
    const path = `/proc/${entry.name}`;
    if (entry.isDirectory()) args.push('--tmpfs', path, '--remount-ro', path);
    else args.push('--ro-bind', '/dev/null', path);
  }
  procLayout = args;
  return args;
}

/** A file is shown through an overlay of its directory; a missing source is left for bwrap to report. */
const isFileBind = (bind: { host: string }) =>
  statSync(bind.host, { throwIfNoEntry: false })?.isFile() ?? false;

const shellQuote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/**
 * As root: a script for the outer sandbox that shows each read-only bind through a read-only overlay
 * whose lower layers are named by relative paths, then drops the raw binds. A bind mount shows its
 * source's path on the host in mountinfo (the dentry path within its filesystem, whatever bind it came
 * through); an overlay shows "/" and the layer names it was given. Ends by exec'ing "$@".
 */
function overlayScript(binds: SandboxSpec['readOnly']): string {
  const lines = ['set -e', `cd ${STAGING}`, 'mkdir empty'];
  const staged: string[] = [];
  binds.forEach((bind, index) => {
    const isFile = isFileBind(bind);
    const layer = `l${index}`;
    const view = `v${index}`;
    const inside = shellQuote(bind.inside);
    lines.push(`mkdir ${view}`, `mount -t overlay -o ro,lowerdir=${layer}:empty rfl-bind ${view}`);
    if (isFile) {
      lines.push(`mkdir -p ${shellQuote(dirname(bind.inside))}`, `: > ${inside}`);
      lines.push(`mount -o bind,ro ${view}/${shellQuote(basename(bind.host))} ${inside}`);
    } else {
      lines.push(`mkdir -p ${inside}`, `mount -o bind,ro ${view} ${inside}`);
    }
    staged.push(view, layer);
  });
  if (staged.length > 0) lines.push(`umount ${staged.join(' ')}`, `rmdir ${staged.join(' ')}`);
  lines.push('cd /', 'exec "$@"');
  return lines.join('\n');
}

/** uid null: not root, no uid to drop to (bwrap unshares a user namespace as the worker's user). */
function bwrapArgs(spec: SandboxSpec, uid: number | null, seccomp: boolean): string[] {
  const { limits } = spec;
  const asRoot = uid !== null;
  const args = ['--die-with-parent', '--new-session', '--clearenv'];
  // As root: every namespace but the user one, so setpriv can become a real unprivileged uid;
  // CAP_SYS_ADMIN for the overlays of overlayScript, which runs before setpriv drops everything.
  if (asRoot) {
    args.push('--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try');
    args.push('--cap-drop', 'ALL');
    for (const cap of ['CAP_SETUID', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SYS_ADMIN'])
      args.push('--cap-add', cap);
  } else {
    args.push('--unshare-all', '--unshare-user', ...NO_NESTED_USERNS);
  }
  args.push(...systemArgs());
  if (asRoot) {
    args.push('--perms', '0700', '--dir', STAGING);
    spec.readOnly.forEach((bind, index) => {
      const layer = isFileBind(bind) ? dirname(bind.host) : bind.host;
      args.push('--ro-bind', layer, `${STAGING}/l${index}`);
    });
  } else {
    for (const bind of spec.readOnly)
      args.push(...dirArgs([bind.inside]), '--ro-bind', bind.host, bind.inside);
  }
  args.push('--proc', '/proc', ...procMaskArgs(), '--dev', '/dev');
  args.push('--perms', '1777', '--size', String(limits.fileSizeMb * MB), '--tmpfs', '/tmp');
  args.push('--bind', spec.scratch, '/work', '--chdir', spec.cwd ?? '/work');
  const env = { PATH: '/usr/bin:/bin', HOME: '/tmp', ...spec.env };
  for (const [name, value] of Object.entries(env)) args.push('--setenv', name, value);
  // On the bwrap that execs the command, which installs it last, after its own namespace setup.
  const filter = seccomp ? ['--seccomp', String(SECCOMP_FD)] : [];

  const drop = asRoot
    ? [
        '/bin/sh',
        '-c',
        overlayScript(spec.readOnly),
        'sh',
        TOOLS.setpriv,
        `--reuid=${uid}`,
        `--regid=${uid}`,
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
        ...filter,
        '--chdir',
        spec.cwd ?? '/work',
        '--',
      ]
    : [...filter, '--'];
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

const isPid = (name: string) => /^\d+$/.test(name);

/** Fields of <procDir>/<pid>/stat after the command name: [0] state, [1] ppid, [19] start time. */
function procStat(pid: number | string, procDir = '/proc'): string[] | null {
  try {
    const stat = readFileSync(`${procDir}/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

let ownToken: string | null = null;
let tmpCount = 0;

/** "<pid> <start time>": who holds a slot, told apart from a later process given the same pid. */
function slotToken(): string {
  ownToken ??= `${process.pid} ${procStat(process.pid)?.[19]}\n`;
  return ownToken;
}

function holderAlive(token: string): boolean {
  const [pid, start] = token.trim().split(' ');
  return pid !== undefined && isPid(pid) && start !== undefined && procStat(pid)?.[19] === start;
}

function uidHasProcesses(uid: number): boolean {
  const line = new RegExp(`^Uid:\\s+${uid}\\s`, 'm');
  for (const name of readdirSync('/proc')) {
    if (!isPid(name)) continue;
    try {
      if (line.test(readFileSync(`/proc/${name}/status`, 'latin1'))) return true;
    } catch {
      // gone
    }
  }
  return false;
}

/** Creates the lock with its content in one step (link fails if it exists), so no reader sees it empty. */
function takeSlot(lock: string): boolean {
  const tmp = join(SLOT_DIR, `.${process.pid}-${++tmpCount}.tmp`);
  writeFileSync(tmp, slotToken(), { flag: 'wx', mode: 0o600 });
  try {
    linkSync(tmp, lock);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(tmp);
  }
}

/**
 * Removes a lock whose holder is dead (a worker killed mid-run), unless processes of its uid somehow
 * outlived it. Moved aside before it is removed: if another worker reclaimed and took the slot between
 * our read and the move, what was moved is its lock, and goes back.
 */
function reclaimSlot(lock: string, uid: number): boolean {
  let seen: string;
  try {
    seen = readFileSync(lock, 'latin1');
  } catch {
    return true; // released meanwhile
  }
  if (holderAlive(seen) || uidHasProcesses(uid)) return false;
  const aside = join(SLOT_DIR, `.${process.pid}-${++tmpCount}.stale`);
  try {
    renameSync(lock, aside);
  } catch {
    return false;
  }
  const moved = readFileSync(aside, 'latin1');
  if (moved !== seen) {
    try {
      linkSync(aside, lock);
    } catch {
      // taken again already
    }
  }
  unlinkSync(aside);
  return moved === seen;
}

let nextSlot = process.pid % SANDBOX_UID_SLOTS;

/**
 * A uid no other sandbox on the machine runs as until release(): synchronous, so runs started at once in
 * this process cannot pick the same slot between a check and a take, and the lock files settle it between
 * processes.
 */
function leaseUid(): { uid: number; release: () => void } | string {
  try {
    mkdirSync(SLOT_DIR, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      return `The build sandbox cannot keep its uid locks in ${SLOT_DIR}: ${(error as Error).message}`;
    }
  }
  const dir = lstatSync(SLOT_DIR);
  if (!dir.isDirectory() || dir.uid !== 0 || (dir.mode & 0o022) !== 0) {
    return `The build sandbox will not use ${SLOT_DIR} for its uid locks: not a root-only directory.`;
  }
  try {
    for (let i = 0; i < SANDBOX_UID_SLOTS; i++) {
      const slot = (nextSlot + i) % SANDBOX_UID_SLOTS;
      const uid = SANDBOX_UID_BASE + slot;
      const lock = join(SLOT_DIR, `${slot}.lock`);
      if (!takeSlot(lock) && !(reclaimSlot(lock, uid) && takeSlot(lock))) continue;
      nextSlot = (slot + 1) % SANDBOX_UID_SLOTS;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        try {
          if (readFileSync(lock, 'latin1') === slotToken()) unlinkSync(lock);
        } catch {
          // already gone
        }
      };
      return { uid, release };
    }
  } catch (error) {
    return `The build sandbox could not lease a uid: ${(error as Error).message}`;
  }
  return `All ${SANDBOX_UID_SLOTS} sandbox uids are in use on this machine; the job was not run.`;
}

interface SandboxInit {
  /** The sandbox's pid 1 while it lives; found on first use (a /proc scan) once bwrap has forked it. */
  pid(): { pid: number; start: string } | null;
  /** Resolves once that pid 1 has exited: its pid namespace, every other process of the run, went first. */
  exited(withinMs: number): Promise<void>;
}

/**
 * The sandbox's pid 1 is the one child of the outer bwrap, which itself stays in our pid namespace. Known
 * by its start time too, so a pid reused after the run cannot be taken for it.
 */
function sandboxInit(bwrapPid: number): SandboxInit {
  let found: { pid: number; start: string } | null = null;
  /** Its stat while it runs (not a zombie yet), else null. */
  const running = () => {
    const stat = found ? procStat(found.pid) : null;
    return stat && stat[19] === found?.start && stat[0] !== 'Z' && stat[0] !== 'X' ? stat : null;
  };
  return {
    pid() {
      if (found) return running() ? found : null;
      const parent = String(bwrapPid);
      for (const name of readdirSync('/proc')) {
        const stat = isPid(name) ? procStat(name) : null;
        if (stat?.[1] === parent && stat[19] !== undefined) {
          found = { pid: Number(name), start: stat[19] };
          return found;
        }
      }
      return null;
    },
    async exited(withinMs) {
      const until = Date.now() + withinMs;
      while (running() && Date.now() < until) await new Promise((done) => setTimeout(done, 10));
    },
  };
}

const RSS_ANON = /^RssAnon:\s+(\d+) kB/m;
const RSS_SHMEM = /^RssShmem:\s+(\d+) kB/m;
const kb = (status: string, field: RegExp) => Number(field.exec(status)?.[1] ?? 0);

/**
 * kB of memory the run holds: anonymous and shmem pages resident in each of its processes (file-backed
 * pages, libraries mostly, are shared with the host and the kernel can drop them, so they are not summed
 * once per process), plus what its /tmp tmpfs holds. Pss from smaps_rollup would split pages shared
 * between processes fairly but walks the page tables (30 ms for a 1.5 GB process here); status is a
 * counter read (40 us). The processes are read through the sandbox's own /proc (/proc/<init>/root/proc,
 * the procfs of its pid namespace), which lists all of them, processes that daemonized and were
 * reparented to the sandbox's pid 1 included, and nothing else. null: no such /proc, because the run
 * ended, or because bwrap is still setting it up (until pivot_root, its root, /proc and /tmp are the
 * host's: its pid 1 is another process, which tells them apart).
 */
function runMemoryKb(init: { pid: number; start: string }): number | null {
  const root = `/proc/${init.pid}/root`;
  if (procStat(1, `${root}/proc`)?.[19] !== init.start) return null;
  let names: string[];
  try {
    names = readdirSync(`${root}/proc`);
  } catch {
    return null;
  }
  let total = 0;
  for (const name of names) {
    if (!isPid(name)) continue;
    try {
      const status = readFileSync(`${root}/proc/${name}/status`, 'latin1');
      total += kb(status, RSS_ANON) + kb(status, RSS_SHMEM);
    } catch {
      // exited meanwhile
    }
  }
  try {
    const tmp = statfsSync(`${root}/tmp`);
    total += ((tmp.blocks - tmp.bfree) * tmp.bsize) / 1024;
  } catch {
    // the run ended
  }
  return total;
}

/**
 * Calls `over` once the run's memory passes limitMb; the returned function stops watching. Checks every
 * MEMORY_CHECK_MS, less often when a check is slow (a run of hundreds of processes), so that watching
 * costs at most about 5% of a core.
 */
function watchMemory(init: SandboxInit, limitMb: number, over: () => void): () => void {
  let timer: NodeJS.Timeout | null = null;
  const check = () => {
    const started = performance.now();
    const pid1 = init.pid();
    const used = pid1 === null ? null : runMemoryKb(pid1);
    if (used !== null && used > limitMb * 1024) {
      over();
      return;
    }
    timer = setTimeout(check, Math.max(MEMORY_CHECK_MS, 20 * (performance.now() - started)));
  };
  timer = setTimeout(check, MEMORY_CHECK_MS);
  return () => {
    if (timer) clearTimeout(timer);
  };
}

/**
 * Lines a tool prints when a limit bit it; rustc's quoted source lines ("12 | ...") are not looked at.
 * Only for limits that no exit status or watchdog reports (a refused fork, a failed allocation, a full
 * disk seen by a tool): a module can print these words too (compile_error!), which misleads only its
 * own result. Each is a plain phrase, so a megabyte-long output line costs one linear scan.
 */
const LIMIT_MESSAGES: [LimitHit, (line: string) => boolean][] = [
  ['cpu', (line) => line.includes('CPU time limit exceeded')],
  [
    'file-size',
    (line) =>
      line.includes('File size limit exceeded') ||
      // ENOSPC is also how the kernel refuses a nested user namespace (unshare, clone): not a disk limit.
      (line.includes('No space left on device') && !NAMESPACE_REFUSAL.test(line)),
  ],
  [
    'memory',
    (line) => /memory allocation of \d+ bytes failed|Cannot allocate memory|[Oo]ut of memory/.test(line),
  ],
  ['processes', (line) => line.includes('Cannot fork') || line.includes('Resource temporarily unavailable')],
];
const NAMESPACE_REFUSAL = /\b(?:unshare|clone|namespace)/;
/** rustc quoting source: optional line number, then "|" (one way to match: linear on any line). */
const QUOTED_SOURCE = /^\s*(?:\d+\s*)?\|/;

function limitFromExit(exitCode: number | null, output: string): LimitHit | null {
  if (exitCode === 0 || exitCode === null) return null;
  if (exitCode === 128 + SIGXCPU) return 'cpu';
  if (exitCode === 128 + SIGXFSZ) return 'file-size';
  const toolLines = output.split('\n').filter((line) => !QUOTED_SOURCE.test(line));
  for (const [limit, said] of LIMIT_MESSAGES) if (toolLines.some(said)) return limit;
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
  if (!asRoot) return runAs(spec, null);
  const lease = leaseUid();
  if (typeof lease === 'string') return notRun(lease);
  try {
    try {
      await chownTree(spec.scratch, lease.uid);
      // bwrap enters /work with its capabilities already dropped: it needs the search bit, not more.
      await chmod(spec.scratch, 0o711);
    } catch (error) {
      return notRun(`The build sandbox could not use its scratch dir: ${(error as Error).message}`);
    }
    return await runAs(spec, lease.uid);
  } finally {
    lease.release();
  }
}

async function runAs(spec: SandboxSpec, uid: number | null): Promise<SandboxRun> {
  const { limits } = spec;
  const started = Date.now();
  const filter = seccompProgram();
  const child = spawn(TOOLS.bwrap, bwrapArgs(spec, uid, filter !== null), {
    detached: true, // its own process group, killed as a whole
    env: {},
    stdio: ['ignore', 'pipe', 'pipe', filter ? 'pipe' : 'ignore'],
  });
  const filterPipe = child.stdio[SECCOMP_FD];
  if (filter && filterPipe && 'end' in filterPipe) {
    // A sandbox that dies before reading it closes the pipe: its exit tells what went wrong.
    filterPipe.on('error', () => {});
    filterPipe.end(filter);
  }
  const chunks: Buffer[] = [];
  let kept = 0;
  let truncated = false;
  let limitHit: LimitHit | null = null;
  let cancelled = false;

  const init = child.pid ? sandboxInit(child.pid) : null;
  let killed = false;
  const stop = (reason: LimitHit | 'cancel') => {
    if (reason === 'cancel') cancelled = true;
    else limitHit ??= reason;
    // Known before bwrap goes, so that the end of the run can wait for its pid 1.
    if (!killed) init?.pid();
    killed = true;
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
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);

  const wall = setTimeout(() => stop('wall'), limits.wallSeconds * 1000);
  const onAbort = () => stop('cancel');
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  const unwatchMemory = init ? watchMemory(init, limits.memoryMb, () => stop('memory')) : () => {};
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
  unwatchMemory();
  spec.signal?.removeEventListener('abort', onAbort);
  // Killing bwrap kills its pid 1 (--die-with-parent), which takes the pid namespace down, but the pipes
  // may close before the last process is gone: the run (and its uid) is over once that pid 1 has exited.
  if (killed) await init?.exited(DRAIN_MS);

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

/**
 * Boots the tree's bzImage in QEMU (TCG) with a busybox initramfs that loads and unloads one module, inside
 * the sandbox (the guest runs user code, and QEMU is a large surface), and reads the serial console.
 *
 * The module runs in the kernel and prints on the same console the kernel reports on, so nothing it can
 * print decides the verdict. The verdict comes from two channels it cannot reach by printing:
 * - The status port: /init writes nonce-tagged lines ("rfl-boot <nonce> insmod 0") to a second serial
 *   port, which QEMU writes to a file of its own (-serial file:); printk goes to the first port only. The
 *   nonce is random per boot, reaches /init in a file /init deletes before insmod, and is never printed
 *   on the console, so a line the module forges on the console is not a status line, and one it would
 *   write to the second port by hand would lack the nonce. Lines: userspace (insmod is next), insmod and
 *   rmmod with their exit codes, the kernel's taint mask after both (its own record of an oops, D, or a
 *   WARN, W), done.
 * - QEMU's end: the kernel runs with oops=panic panic=-1 and QEMU with -no-reboot, so a kernel that goes
 *   down (any oops, BUG, Rust panic or panic) makes QEMU exit on its own before /init reports done; a
 *   guest that stops making progress is stopped by the wall-time limit; QEMU itself failing shows in its
 *   exit status.
 * Only once those prove that the kernel went down is the console read, to name the crash (a Rust panic,
 * an oops, a panic) and to show its report; a module printing "Kernel panic - not syncing", "Oops:" or a
 * status marker on a kernel that stays up changes nothing. What stays open: kernel code could set out to
 * find the nonce in guest memory and drive the second port itself, or print a fake crash report just
 * before a real crash to rename it; either misleads only its own author's result.
 * Whatever happens before the status port says userspace ran no user code, so it is ours (infrastructure,
 * retried); from then on it is the user's result. Console text is stripped of control characters
 * (stripControls) before it is read or kept.
 */
import { randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripControls } from '../../config/printable.ts';
import type { Config } from '../../config/schema.ts';
import type { PreparedTree } from '../kernel/kernel-tree.ts';
import { describeExit } from '../sandbox/exit-status.ts';
import { type LimitHit, runSandboxed } from '../sandbox/sandbox.ts';
import { buildInitramfs, STATUS } from './initramfs.ts';

export type BootVerdict =
  | 'clean'
  | 'oops'
  | 'panic'
  | 'warning'
  | 'died'
  | 'hang'
  | 'insmod-failed'
  | 'rmmod-failed';

export interface BootResult {
  outcome: 'success' | 'boot-failure' | 'limit' | 'infrastructure';
  verdict: BootVerdict;
  /** The module's own printk lines, insmod/rmmod errors and the crash report's key lines. */
  moduleLines: string[];
  /** The whole serial console, cut at the output limit, without control characters. */
  console: string;
  /** User-facing sentence when the boot was stopped or could not run; null otherwise. */
  message: string | null;
  limitHit: LimitHit | null;
  durationMs: number;
}

export type BootLimits = Pick<
  Config['jobs'],
  'bootTimeoutSeconds' | 'memoryLimitMb' | 'maxProcesses' | 'maxOutputKb'
>;

export interface BootOptions {
  tree: PreparedTree;
  koPath: string;
  moduleName: string;
  limits: BootLimits;
  signal?: AbortSignal;
}

const QEMU = '/usr/bin/qemu-system-x86_64';
const BUSYBOX = '/bin/busybox';
const QBOOT = '/usr/share/qemu/qboot.rom';
/** QEMU reserves its TCG translation buffer up front (1 GB by default); 64 MB is plenty for a tiny guest. */
const TB_SIZE_MB = 64;
const GUEST_MEMORY = '128M';
/** What QEMU itself needs beyond the guest RAM and the translation buffer. */
const QEMU_MIN_ADDRESS_SPACE_MB = 1024;
/** Where QEMU writes the status port, in the scratch dir (/work inside the sandbox). */
const STATUS_FILE = 'status';
/** Far more than /init writes; no more of the status file is read. */
const STATUS_MAX_BYTES = 4096;
/** Taint bits (include/linux/panic.h): an oops happened (D), a WARN fired (W). */
const TAINT_DIE = 1 << 7;
const TAINT_WARN = 1 << 9;

/** Crash report headlines, only read once the kernel is known to have gone down. */
const OOPS = /\b(Oops|BUG:|kernel BUG at|general protection fault|Unable to handle kernel)/;
const PANIC = /Kernel panic - not syncing/;
const RUST_PANIC = /\bpanicked at\b/;
/** Lines of a crash (or WARN) report worth showing in chat (the full report is in the console). */
const CRASH_SUMMARY =
  /(Oops|BUG:|kernel BUG at|general protection fault|Unable to handle|Kernel panic|RIP:|panicked at|Call Trace|WARNING: CPU:)/;

/** "[    1.234567] text" -> "text", for console text already stripped of control characters. */
export function consoleLines(console: string): string[] {
  return console.split('\n').map((line) => line.replace(/^\[\s*\d+\.\d+\]\s?/, '').trimEnd());
}

/** What /init reported on the status port; exit codes are null for a step it did not reach. */
export interface BootStatus {
  userspace: boolean;
  insmod: number | null;
  rmmod: number | null;
  tainted: number | null;
  done: boolean;
}

/** The status lines of this boot: those with its nonce, anything else ignored. */
export function readStatus(text: string, nonce: string): BootStatus {
  const status: BootStatus = { userspace: false, insmod: null, rmmod: null, tainted: null, done: false };
  const tag = `${STATUS.prefix} ${nonce} `;
  for (const line of text.split('\n')) {
    if (!line.startsWith(tag)) continue;
    const [step, value] = line.slice(tag.length).trim().split(' ');
    const number = /^\d+$/.test(value ?? '') ? Number(value) : null;
    if (step === 'userspace') status.userspace = true;
    else if (step === 'insmod') status.insmod = number;
    else if (step === 'rmmod') status.rmmod = number;
    else if (step === 'tainted') status.tainted = number;
    else if (step === 'done') status.done = true;
  }
  return status;
}

/** The verdict of a boot whose /init reported done: from exit codes and the kernel's taint mask only. */
function finishedVerdict(status: BootStatus): BootVerdict {
  const tainted = status.tainted ?? 0;
  if (tainted & TAINT_DIE) return 'oops';
  if (tainted & TAINT_WARN) return 'warning';
  if (status.insmod !== 0) return 'insmod-failed';
  if (status.rmmod !== null && status.rmmod !== 0) return 'rmmod-failed';
  return 'clean';
}

/**
 * Names a crash the kernel is known to have had (QEMU exited on its own before /init reported done). A
 * Rust `panic!` reaches the kernel as BUG(), so "panicked at" makes it a panic rather than an oops.
 */
function crashVerdict(lines: string[]): BootVerdict {
  const has = (pattern: RegExp) => lines.some((line) => pattern.test(line));
  if (has(RUST_PANIC)) return 'panic';
  if (has(OOPS)) return 'oops';
  if (has(PANIC)) return 'panic';
  return 'died';
}

/**
 * How QEMU's run ended: 'exited' on its own with status 0 (the guest rebooted: /init's reboot, or the
 * kernel's panic=-1), 'failed' (QEMU itself exited non-zero or died), 'stopped' by a limit or a cancel.
 */
export type QemuEnd = 'exited' | 'failed' | 'stopped';

/** The verdict of a boot that reached userspace, and the lines to show. */
export function readBoot(
  console: string,
  status: BootStatus,
  moduleName: string,
  end: QemuEnd,
): { verdict: BootVerdict; moduleLines: string[] } {
  const lines = consoleLines(console);
  let verdict: BootVerdict = 'hang';
  if (status.done) verdict = finishedVerdict(status);
  // No done: the kernel went down with the module loaded, or QEMU did.
  else if (end === 'exited') verdict = crashVerdict(lines);
  else if (end === 'failed') verdict = 'died';
  const prefix = `${moduleName}: `;
  // Crash report lines are shown for a boot that went wrong; on a clean one they can only be the module's.
  const moduleLines = lines.filter(
    (line) =>
      line.startsWith(prefix) ||
      /^(insmod|rmmod): /.test(line) ||
      (verdict !== 'clean' && CRASH_SUMMARY.test(line)),
  );
  return { verdict, moduleLines };
}

/**
 * The status file QEMU wrote. QEMU is sandboxed but handles hostile input: it must not get this process
 * to read another file in its place (a symlink, a FIFO that blocks, a hard link to a host file).
 */
async function readStatusFile(path: string): Promise<string> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return '';
  }
  try {
    const stat = await file.stat();
    if (!stat.isFile() || stat.nlink !== 1) return '';
    const buffer = Buffer.alloc(STATUS_MAX_BYTES);
    const { bytesRead } = await file.read(buffer, 0, STATUS_MAX_BYTES, 0);
    return stripControls(buffer.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await file.close();
  }
}

function qemuCommand(initrd: string): string[] {
  return [
    QEMU,
    '-accel',
    `tcg,tb-size=${TB_SIZE_MB}`,
    '-kernel',
    '/kernel/bzImage',
    '-initrd',
    initrd,
    '-append',
    'console=ttyS0 quiet loglevel=7 panic=-1 oops=panic',
    '-nographic',
    '-monitor',
    'none',
    // COM1, the console, on stdout; COM2, the status port, into a file only the host reads.
    '-serial',
    'stdio',
    '-serial',
    `file:/work/${STATUS_FILE}`,
    '-no-reboot',
    '-m',
    GUEST_MEMORY,
    '-bios',
    QBOOT,
    '-nic',
    'none',
  ];
}

export async function bootModule(options: BootOptions): Promise<BootResult> {
  const started = Date.now();
  const { tree, limits, moduleName } = options;
  const result = (parts: Partial<BootResult> & Pick<BootResult, 'outcome' | 'verdict'>): BootResult => ({
    moduleLines: [],
    console: '',
    message: null,
    limitHit: null,
    ...parts,
    durationMs: Date.now() - started,
  });
  const missing = [QEMU, BUSYBOX, QBOOT].filter((path) => !existsSync(path));
  if (!tree.bzImage || !existsSync(tree.bzImage)) missing.unshift('the kernel image (bzImage)');
  if (!existsSync(options.koPath)) missing.push(options.koPath);
  if (missing.length > 0) {
    return result({
      outcome: 'infrastructure',
      verdict: 'hang',
      message: `Cannot boot: ${missing.join(', ')} missing (scripts/bootstrap.sh installs QEMU and busybox).`,
    });
  }
  if (!/^[a-z0-9_]+$/i.test(moduleName)) {
    return result({
      outcome: 'infrastructure',
      verdict: 'hang',
      message: `Bad module name "${moduleName}".`,
    });
  }

  const scratch = await mkdtemp(join(tmpdir(), 'rfl-boot-'));
  try {
    const nonce = randomBytes(16).toString('hex');
    await writeFile(
      join(scratch, 'initrd.gz'),
      await buildInitramfs({ busybox: BUSYBOX, koPath: options.koPath, moduleName, nonce }),
    );
    const run = await runSandboxed({
      command: qemuCommand('/work/initrd.gz'),
      readOnly: [{ host: tree.bzImage as string, inside: '/kernel/bzImage' }],
      scratch,
      limits: {
        wallSeconds: limits.bootTimeoutSeconds,
        cpuSeconds: limits.bootTimeoutSeconds * 2, // QEMU's vCPU and I/O threads share the budget
        memoryMb: Math.max(limits.memoryLimitMb, QEMU_MIN_ADDRESS_SPACE_MB),
        processes: limits.maxProcesses,
        fileSizeMb: 16,
        outputBytes: limits.maxOutputKb * 1024,
      },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const console = stripControls(run.output);
    if (run.infrastructure) {
      return result({ outcome: 'infrastructure', verdict: 'hang', console, message: run.infrastructure });
    }
    const status = readStatus(await readStatusFile(join(scratch, STATUS_FILE)), nonce);
    const end: QemuEnd =
      run.limitHit || run.cancelled ? 'stopped' : run.exitCode === 0 && !run.signal ? 'exited' : 'failed';
    const { verdict, moduleLines } = readBoot(console, status, moduleName, end);
    const base = { console, moduleLines, limitHit: run.limitHit };
    if (run.cancelled)
      return result({ ...base, outcome: 'limit', verdict, message: 'The boot was cancelled.' });
    if (run.limitHit === 'output') {
      return result({
        ...base,
        outcome: 'limit',
        verdict: verdict === 'clean' ? 'hang' : verdict,
        moduleLines: [
          ...moduleLines,
          `[console cut at ${limits.maxOutputKb} KB: the kernel log was flooded]`,
        ],
        message: `The kernel printed more than ${limits.maxOutputKb} KB (the module floods the log); the boot was stopped.`,
      });
    }
    if (!status.userspace) {
      // No user code had run yet: a slow, broken or crashed boot is ours, and worth a retry.
      const how = run.limitHit
        ? `within ${limits.bootTimeoutSeconds} s (${run.limitHit} limit)`
        : `before QEMU exited (${describeExit(run.exitCode, run.signal)})`;
      return result({
        ...base,
        outcome: 'infrastructure',
        verdict: 'hang',
        message: `The kernel did not reach userspace ${how}.`,
      });
    }
    if (run.limitHit === 'wall' || run.limitHit === 'cpu') {
      return result({
        ...base,
        outcome: 'boot-failure',
        verdict: verdict === 'clean' ? 'hang' : verdict,
        moduleLines: [...moduleLines, `[no progress within ${limits.bootTimeoutSeconds} s: stopped]`],
        message: `The guest hung: insmod/rmmod did not finish within ${limits.bootTimeoutSeconds} s.`,
      });
    }
    if (run.limitHit) {
      return result({
        ...base,
        outcome: 'infrastructure',
        verdict,
        message: `QEMU hit the ${run.limitHit} limit.`,
      });
    }
    // QEMU failing while the module was loaded is the guest's doing (or a QEMU bug it triggered).
    const message =
      end === 'failed' && !status.done
        ? `QEMU stopped (${describeExit(run.exitCode, run.signal)}) while the module was loaded.`
        : null;
    return result({ ...base, outcome: verdict === 'clean' ? 'success' : 'boot-failure', verdict, message });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

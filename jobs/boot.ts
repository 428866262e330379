/**
 * Boots the tree's bzImage in QEMU (TCG) with a busybox initramfs that loads and unloads one module, inside
 * the sandbox (the guest runs user code, and QEMU is a large surface), and reads the serial console.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import { buildInitramfs, MARK } from './initramfs.ts';
import type { PreparedTree } from './kernel-tree.ts';
import { type LimitHit, runSandboxed } from './sandbox.ts';

export type BootVerdict = 'clean' | 'oops' | 'panic' | 'hang' | 'insmod-failed' | 'rmmod-failed';

export interface BootResult {
  outcome: 'success' | 'boot-failure' | 'limit' | 'infrastructure';
  verdict: BootVerdict;
  /** The module's own printk lines, insmod/rmmod errors and the crash report's key lines. */
  moduleLines: string[];
  /** The whole serial console, cut at the output limit. */
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

/** Lines that start a kernel crash report. */
const OOPS = /\b(Oops|BUG:|kernel BUG at|general protection fault|Unable to handle kernel|WARNING: CPU:)/;
const PANIC = /Kernel panic - not syncing/;
const RUST_PANIC = /\bpanicked at\b/;
/** Lines of a crash report worth showing in chat (the full report is in the console). */
const CRASH_SUMMARY =
  /(Oops|BUG:|kernel BUG at|general protection fault|Unable to handle|Kernel panic|RIP:|panicked at|Call Trace|WARNING: CPU:)/;

/** "[    1.234567] text" -> "text"; serial line endings and the terminal's control sequences dropped. */
export function consoleLines(console: string): string[] {
  return (
    console
      .replace(/\r/g, '')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes from QEMU's terminal setup.
      .replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1bc/g, '')
      .split('\n')
      .map((line) => line.replace(/^\[\s*\d+\.\d+\]\s?/, '').trimEnd())
  );
}

/**
 * The verdict a console shows, assuming the run ended on its own (limits are judged by the caller). A Rust
 * `panic!` reaches the kernel as BUG(), so "panicked at" makes it a panic rather than an oops.
 */
export function readConsole(
  console: string,
  moduleName: string,
): { verdict: BootVerdict; moduleLines: string[] } {
  const lines = consoleLines(console);
  const prefix = `${moduleName}: `;
  const moduleLines = lines.filter(
    (line) =>
      line.startsWith(prefix) ||
      /^(insmod|rmmod): /.test(line) ||
      line.startsWith(MARK.insmodFailed) ||
      line.startsWith(MARK.rmmodFailed) ||
      CRASH_SUMMARY.test(line),
  );
  const has = (pattern: RegExp) => lines.some((line) => pattern.test(line));
  const hasMark = (mark: string) => lines.some((line) => line.startsWith(mark));
  let verdict: BootVerdict = 'clean';
  if (has(RUST_PANIC)) verdict = 'panic';
  else if (has(OOPS)) verdict = 'oops';
  else if (has(PANIC)) verdict = 'panic';
  else if (hasMark(MARK.insmodFailed)) verdict = 'insmod-failed';
  else if (hasMark(MARK.rmmodFailed)) verdict = 'rmmod-failed';
  else if (!hasMark(MARK.done)) verdict = 'hang';
  return { verdict, moduleLines };
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
    await writeFile(
      join(scratch, 'initrd.gz'),
      await buildInitramfs({ busybox: BUSYBOX, koPath: options.koPath, moduleName }),
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
    const console = run.output;
    if (run.infrastructure) {
      return result({ outcome: 'infrastructure', verdict: 'hang', console, message: run.infrastructure });
    }
    const { verdict, moduleLines } = readConsole(console, moduleName);
    const base = { console, moduleLines, limitHit: run.limitHit };
    if (run.cancelled)
      return result({ ...base, outcome: 'limit', verdict, message: 'The boot was cancelled.' });
    const reachedUserspace = consoleLines(console).includes(MARK.userspace);
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
    if (run.limitHit === 'wall' || run.limitHit === 'cpu') {
      // Before /init ran, no user code had run: a slow or broken boot is ours, and worth a retry.
      if (!reachedUserspace) {
        return result({
          ...base,
          outcome: 'infrastructure',
          verdict: 'hang',
          message: `The kernel did not reach userspace within ${limits.bootTimeoutSeconds} s.`,
        });
      }
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
    if (!reachedUserspace && verdict === 'hang') {
      return result({
        ...base,
        outcome: 'infrastructure',
        verdict,
        message: `QEMU exited (${run.exitCode ?? run.signal}) before the kernel reached userspace.`,
      });
    }
    return result({ ...base, outcome: verdict === 'clean' ? 'success' : 'boot-failure', verdict });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

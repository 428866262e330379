/**
 * The initramfs a module boot runs: busybox, the module and an /init that loads and unloads it, packed
 * as a gzipped newc cpio written here (the format is a header per file; no external cpio needed).
 */
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';

export interface CpioEntry {
  /** Path inside the archive, without a leading slash ("bin/busybox"). */
  name: string;
  /** Full st_mode: type bits and permissions (0o100755 for an executable file). */
  mode: number;
  data?: Buffer;
  /** Device numbers of a character device node. */
  rdev?: { major: number; minor: number };
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;
const TRAILER = 'TRAILER!!!';

/**
 * Steps /init prints on the console, so the full log reads as steps. Only for people: the module writes
 * to the same console and can print these too, so no verdict is read from them (see STATUS).
 */
const MARK = {
  userspace: 'rfl-boot: userspace',
  insmodOk: 'rfl-boot: insmod ok',
  insmodFailed: 'rfl-boot: insmod failed',
  rmmodOk: 'rfl-boot: rmmod ok',
  rmmodFailed: 'rfl-boot: rmmod failed',
  done: 'rfl-boot: done',
} as const;

/**
 * The status channel: /init writes "rfl-boot <nonce> <step> [<value>]" lines to the second serial port,
 * which QEMU writes to a file; the kernel's console (and so every printk of the module) is the first.
 * Steps, in order: userspace (insmod is next), insmod <exit>, rmmod <exit> (when the module was loaded),
 * tainted <the kernel's taint mask>, done. The nonce reaches /init in a file it reads and deletes
 * before insmod.
 */
export const STATUS = {
  /** The second 8250 port (COM2), a tty the kernel prints nothing on. */
  device: { name: 'dev/ttyS1', major: 4, minor: 65 },
  nonceFile: 'rfl-nonce',
  prefix: 'rfl-boot',
} as const;

const pad4 = (length: number) => (4 - (length % 4)) % 4;

function header(fields: number[]): string {
  return `070701${fields.map((field) => field.toString(16).padStart(8, '0')).join('')}`;
}

/** A newc ("070701") archive: each member is header, NUL-terminated name and data, 4-byte aligned. */
export function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const members = [...entries, { name: TRAILER, mode: 0 }];
  members.forEach((entry: CpioEntry, index) => {
    const data = entry.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${entry.name}\0`, 'utf8');
    const isTrailer = entry.name === TRAILER;
    const fields = [
      isTrailer ? 0 : index + 1, // inode
      entry.mode,
      0, // uid
      0, // gid
      entry.mode & S_IFDIR ? 2 : 1, // nlink
      0, // mtime: fixed, so the same inputs give the same archive
      data.length,
      0, // devmajor
      0, // devminor
      entry.rdev?.major ?? 0,
      entry.rdev?.minor ?? 0,
      name.length,
      0, // check
    ];
    const head = Buffer.from(header(fields), 'ascii');
    parts.push(
      head,
      name,
      Buffer.alloc(pad4(head.length + name.length)),
      data,
      Buffer.alloc(pad4(data.length)),
    );
  });
  return Buffer.concat(parts);
}

/**
 * /init: every step on the console for the log, and on the status port with the nonce for the verdict.
 * Each status line is written by opening the port, which closing drains: a line written before insmod
 * has left the guest before the module's code runs. The guest powers off by reboot (QEMU runs -no-reboot).
 */
export function initScript(moduleName: string): string {
  const bb = '/bin/busybox';
  const step = (words: string) => `echo "${STATUS.prefix} $nonce ${words}" > /${STATUS.device.name}`;
  return [
    `#!${bb} sh`,
    `${bb} mount -t proc proc /proc`,
    `${bb} mount -t sysfs sys /sys`,
    `read -r nonce < /${STATUS.nonceFile}`,
    `${bb} rm /${STATUS.nonceFile}`,
    `echo "${MARK.userspace}"`,
    step('userspace'),
    `${bb} insmod /${moduleName}.ko`,
    'code=$?',
    step('insmod $code'),
    `if [ $code = 0 ]; then echo "${MARK.insmodOk}"; else echo "${MARK.insmodFailed} ($code)"; fi`,
    `if ${bb} grep -q "^${moduleName} " /proc/modules; then`,
    `  ${bb} rmmod ${moduleName}`,
    '  code=$?',
    `  ${step('rmmod $code')}`,
    `  if [ $code = 0 ]; then echo "${MARK.rmmodOk}"; else echo "${MARK.rmmodFailed} ($code)"; fi`,
    'fi',
    step(`tainted $(${bb} cat /proc/sys/kernel/tainted)`),
    `echo "${MARK.done}"`,
    step('done'),
    `${bb} reboot -f`,
    '',
  ].join('\n');
}

export async function buildInitramfs(options: {
  busybox: string;
  koPath: string;
  moduleName: string;
  /** This boot's secret for the status lines. */
  nonce: string;
}): Promise<Buffer> {
  const [busybox, ko] = await Promise.all([readFile(options.busybox), readFile(options.koPath)]);
  const dir = (name: string): CpioEntry => ({ name, mode: S_IFDIR | 0o755 });
  const archive = cpioNewc([
    dir('bin'),
    dir('dev'),
    dir('proc'),
    dir('sys'),
    // The kernel opens /dev/console for init's output; without it insmod's errors would be lost.
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdev: { major: 5, minor: 1 } },
    { name: STATUS.device.name, mode: S_IFCHR | 0o600, rdev: STATUS.device },
    { name: STATUS.nonceFile, mode: S_IFREG | 0o600, data: Buffer.from(`${options.nonce}\n`) },
    { name: 'bin/busybox', mode: S_IFREG | 0o755, data: busybox },
    { name: `${options.moduleName}.ko`, mode: S_IFREG | 0o644, data: ko },
    { name: 'init', mode: S_IFREG | 0o755, data: Buffer.from(initScript(options.moduleName)) },
  ]);
  return gzipSync(archive, { level: 1 });
}

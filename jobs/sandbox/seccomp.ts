/**
 * The seccomp filter the sandbox puts on the user's command (bwrap --seccomp takes it as a compiled
 * classic-BPF program): system calls a build or a boot never makes fail with EPERM, so a tool that tries
 * one degrades as it would without the privilege, and a call through another ABI (i386 via int 0x80, x32)
 * kills the process, since the numbers below mean other calls there.
 *
 * Our own generator rather than libseccomp: npm has no binding that installs without compiling native
 * code, and a deny list checked one number after another is a few dozen BPF instructions. The numbers are
 * x86_64's, from the kernel's arch/x86/entry/syscalls/syscall_64.tbl (stable ABI: never renumbered).
 */

/** Denied on x86_64, by what they would let a build do. */
const DENIED_X86_64: Record<string, number> = {
  // Rearranging the filesystem: the sandbox's mounts are set up before the command runs.
  mount: 165,
  umount2: 166,
  pivot_root: 155,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  mount_setattr: 442,
  // New namespaces or joining others (bwrap makes its own before it installs this filter).
  unshare: 272,
  setns: 308,
  // Reading or steering other processes.
  ptrace: 101,
  process_vm_readv: 310,
  process_vm_writev: 311,
  kcmp: 312,
  pidfd_getfd: 438,
  // The kernel itself: modules, kexec, BPF, perf, the kernel log, the keyring.
  init_module: 175,
  finit_module: 313,
  delete_module: 176,
  kexec_load: 246,
  kexec_file_load: 320,
  bpf: 321,
  perf_event_open: 298,
  syslog: 103,
  add_key: 248,
  request_key: 249,
  keyctl: 250,
  // Attack surface a build has no use for (QEMU falls back to ppoll without io_uring).
  userfaultfd: 323,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  // Machine-wide state.
  reboot: 169,
  swapon: 167,
  swapoff: 168,
  acct: 163,
  quotactl: 179,
  quotactl_fd: 443,
  settimeofday: 164,
  clock_settime: 227,
  // Files by handle, past the mount namespace.
  name_to_handle_at: 303,
  open_by_handle_at: 304,
};

const PERSONALITY = 135;
/** personality(PER_LINUX) and the query personality(0xffffffff) are allowed; other personas are not. */
const PERSONALITY_ALLOWED = [0, 0xffffffff];
/** glibc falls back to clone only when clone3 says ENOSYS, and clone3's flags cannot be looked at here. */
const CLONE3 = 435;

const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
const EPERM = 1;
const ENOSYS = 38;

// struct seccomp_data: nr at 0, arch at 4, args[0] (low 32 bits on little-endian) at 16.
const DATA_NR = 0;
const DATA_ARCH = 4;
const DATA_ARG0_LOW = 16;

// Classic BPF opcodes (linux/bpf_common.h) and seccomp return values (linux/seccomp.h).
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JSET_K = 0x45;
const RET_K = 0x06;
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;

interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const load = (offset: number): Instruction => ({ code: LD_W_ABS, jt: 0, jf: 0, k: offset });
const ret = (value: number): Instruction => ({ code: RET_K, jt: 0, jf: 0, k: value });
/** Falls through when the accumulator equals k, else skips `skip` instructions. */
const unlessEqual = (k: number, skip: number): Instruction => ({ code: JEQ_K, jt: 0, jf: skip, k });

/** Each instruction as the kernel's struct sock_filter: u16 code, u8 jt, u8 jf, u32 k, little-endian. */
function encode(program: Instruction[]): Buffer {
  const out = Buffer.alloc(program.length * 8);
  program.forEach((instruction, index) => {
    out.writeUInt16LE(instruction.code, index * 8);
    out.writeUInt8(instruction.jt, index * 8 + 2);
    out.writeUInt8(instruction.jf, index * 8 + 3);
    out.writeUInt32LE(instruction.k >>> 0, index * 8 + 4);
  });
  return out;
}

/**
 * The compiled filter for the machine's architecture, or null where we have no syscall table (only
 * x86_64 has one: the sandbox then runs without a filter, as the opening comment of sandbox.ts says).
 */
export function seccompProgram(arch: NodeJS.Architecture = process.arch): Buffer | null {
  if (arch !== 'x64') return null;
  const program: Instruction[] = [
    load(DATA_ARCH),
    { code: JEQ_K, jt: 1, jf: 0, k: AUDIT_ARCH_X86_64 },
    ret(RET_KILL_PROCESS),
    load(DATA_NR),
    { code: JSET_K, jt: 0, jf: 1, k: X32_SYSCALL_BIT },
    ret(RET_KILL_PROCESS),
  ];
  for (const nr of Object.values(DENIED_X86_64)) program.push(unlessEqual(nr, 1), ret(RET_ERRNO | EPERM));
  program.push(unlessEqual(CLONE3, 1), ret(RET_ERRNO | ENOSYS));
  // personality: allowed values return at once, anything else falls to EPERM.
  program.push(unlessEqual(PERSONALITY, 2 + 2 * PERSONALITY_ALLOWED.length), load(DATA_ARG0_LOW));
  for (const persona of PERSONALITY_ALLOWED) program.push(unlessEqual(persona, 1), ret(RET_ALLOW));
  program.push(ret(RET_ERRNO | EPERM));
  program.push(ret(RET_ALLOW));
  return encode(program);
}

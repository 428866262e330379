/**
 * The jobs a chat user can start, as the queue carries them and as workers report on them.
 * Plain data (JSON-safe): requests and results travel through Redis.
 */

/** Who asked and where the result goes back to; the router fills it from the incoming message. */
export interface JobOrigin {
  userId: string;
  platform: 'terminal' | 'matrix' | 'discord' | 'zulip';
  /** The room or channel, without the thread: per-room limits count here (every message starts a thread). */
  room: string;
  /** Platform-neutral conversation key (room or channel, and thread): where the result goes. */
  conversation: string;
  /** Asked in a direct message (or at the terminal): the job's log is shown in that conversation only. */
  isDirect: boolean;
}

/** The same person: user ids are unique per platform only. */
export function sameUser(a: JobOrigin, b: JobOrigin): boolean {
  return a.platform === b.platform && a.userId === b.userId;
}

export type JobRequest =
  | {
      kind: 'build';
      /** Rust source of one module file, as the user sent it (fenced block or attachment). */
      source: string;
      /** File name the user gave (attachment name) or null; sanitised before any use. */
      fileName: string | null;
      boot: boolean;
      /** Kernel series asked for ("6.1"), or null for the default tree. */
      kernel: string | null;
    }
  | { kind: 'sample'; name: string; boot: boolean; kernel: string | null }
  | {
      kind: 'check-config';
      /** A whole .config or a fragment, and/or pasted `rustc --version` / `bindgen --version` /
       * `make rustavailable` output. */
      text: string;
      kernel: string | null;
    };

export type JobStage = 'queued' | 'preparing' | 'building' | 'booting' | 'checking' | 'done';

export interface JobProgress {
  stage: JobStage;
  /** Position in the queue while queued (1 = next). */
  position?: number;
  detail?: string;
}

/** What the tree and toolchain were, stated on the first line of every result. */
export interface BuildEnvironment {
  kernelVersion: string;
  rustc: string;
  bindgen: string;
  clang: string;
}

export type JobOutcome =
  | 'success' // built (and booted cleanly, when asked)
  | 'compile-error' // the user's code did not build: a normal result, never retried
  | 'boot-failure' // built, but the boot showed an oops, a panic or a hang
  | 'limit' // a sandbox limit was hit (time, memory, output, processes, disk)
  | 'config-ok'
  | 'config-problems'
  | 'infrastructure'; // our side failed (tree missing, QEMU missing…): retried, then reported

export interface JobResult {
  jobId: string;
  outcome: JobOutcome;
  environment: BuildEnvironment | null;
  /** First line: ✅/❌ with kernel and toolchain versions. */
  summary: string;
  /** Then the first errors as rustc printed them, whole diagnostic blocks; or the module's kernel log
   * lines; or the config findings and the `scripts/config` lines that fix them. */
  body: string;
  warnings: number;
  errors: number;
  /** The full log, for `!log <job>` and as an attached file where the platform allows. */
  fullLog: string;
  durationMs: number;
  /** The cache key of the prepared tree the job ran against; absent when it found none. */
  treeKey?: string;
}

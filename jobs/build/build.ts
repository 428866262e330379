/**
 * Builds one user module (or an in-tree Rust sample) out of tree against a prepared kernel tree, inside
 * the sandbox: the source and build dirs read-only, a fresh scratch dir holding `<name>.rs` and our own
 * Kbuild line, the toolchain pinned. The .ko stays in the scratch dir for a later boot until cleanup().
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../config/schema.ts';
import type { BuildEnvironment } from '../contracts.ts';
import type { PreparedTree } from '../kernel/kernel-tree.ts';
import { makeArgs, makeEnv, toolchainBinds } from '../kernel/toolchain.ts';
import { describeExit } from '../sandbox/exit-status.ts';
import {
  type CompileLimits,
  compileLimits,
  type LimitHit,
  runSandboxed,
  type SandboxRun,
} from '../sandbox/sandbox.ts';
import {
  countDiagnostics,
  type DiagnosticBlock,
  displayText,
  firstErrors,
  parseDiagnostics,
} from './diagnostics.ts';

export type BuildLimits = CompileLimits & Pick<Config['jobs'], 'maxSourceKb'>;

export interface BuildOptions {
  limits: BuildLimits;
  signal?: AbortSignal;
  onProgress?: (text: string) => void;
  /** Room for the first error blocks in a chat reply (whole blocks only). */
  maxErrorChars?: number;
}

export interface ModuleBuild {
  /**
   * 'compile-error' is every failure once the compiler has started on the user's code, diagnosed or not
   * (see silentFailure); 'infrastructure' only a failure before that (the sandbox, the tree, make).
   * 'limit' also covers a refused (too large) source and a cancelled build; see limitHit / cancelled.
   */
  outcome: 'success' | 'compile-error' | 'limit' | 'infrastructure';
  moduleName: string;
  /** The file as it appears in diagnostics ("hello.rs"). */
  fileName: string;
  koPath: string | null;
  /** Full compiler and make output, sandbox paths shown as the user's. */
  log: string;
  errors: number;
  warnings: number;
  /** The first error blocks as rustc printed them, trimmed by whole blocks. */
  firstErrors: string;
  omittedErrors: number;
  diagnostics: DiagnosticBlock[];
  limitHit: LimitHit | 'source-size' | null;
  cancelled: boolean;
  /**
   * How the build failed on the user's code without printing an error, as a phrase ("the compiler crashed
   * (signal SIGSEGV) on this code"); null when it printed one, or did not fail.
   */
  silentFailure: string | null;
  /**
   * User-facing sentence when the build did not run or was stopped, or what a silent failure means;
   * null for success and compile errors.
   */
  message: string | null;
  environment: BuildEnvironment;
  durationMs: number;
  scratchDir: string | null;
  cleanup: () => Promise<void>;
}

/** Crate names the kernel build already uses: a module with one of them would shadow it. */
const RESERVED = new Set(['core', 'alloc', 'kernel', 'macros', 'compiler_builtins', 'bindings', 'std']);
const DEFAULT_NAME = 'rfl_module';

function sanitize(raw: string): string {
  let name = raw
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+/, '')
    .slice(0, 48);
  // Trailing underscores go after the cut, without a regex: /_+$/ rescans a long run from each of its
  // underscores, and a module! name can be a whole source long.
  while (name.endsWith('_')) name = name.slice(0, -1);
  if (name && !/^[a-z]/.test(name)) name = `m_${name}`;
  return RESERVED.has(name) ? `${name}_module` : name;
}

/**
 * [a-z0-9_] module name from the file name's last component, else from `module!`'s name, else a default:
 * "../../etc/x.rs" -> "x", "My Module.rs" -> "my_module".
 */
export function moduleName(fileName: string | null, source: string): string {
  const base = fileName?.split(/[/\\]/).pop()?.replace(/\.rs$/i, '') ?? '';
  const declared = /module!\s*\{[^}]*?\bname:\s*b?"([^"]*)"/s.exec(source)?.[1] ?? '';
  // The module! name first: it prefixes the module's kernel log lines, which a boot picks out by the .ko name.
  return sanitize(declared) || sanitize(base) || DEFAULT_NAME;
}

const LIMIT_TEXT: Record<LimitHit, (l: BuildLimits) => string> = {
  wall: (l) => `The build took longer than ${l.buildTimeoutSeconds} s and was stopped.`,
  cpu: (l) => `The build used more than ${l.buildTimeoutSeconds} s of CPU time and was stopped.`,
  memory: (l) => `The build needed more than ${l.memoryLimitMb} MB of memory and was stopped.`,
  processes: (l) => `The build started more than ${l.maxProcesses} processes and was stopped.`,
  'file-size': (l) => `The build wrote more than ${l.scratchLimitMb} MB and was stopped.`,
  output: (l) => `The build printed more than ${l.maxOutputKb} KB and was stopped; the log is cut there.`,
};

/**
 * Whether the user's code reached the compiler: kbuild prints "  RUSTC [M] /work/<name>.o" just before it
 * starts rustc on it. Everything before that line is make's and kbuild's own output, so nothing the code
 * makes rustc print can stand in for it; a failure before it is ours, from it on the user's.
 */
function compilerStarted(output: string, name: string): boolean {
  const started = `RUSTC [M] /work/${name}.o`;
  return output.split('\n').some((line) => line.trim() === started);
}

/** make's report of a recipe for one of the user's files failing: "make[2]: *** [<makefile>:315: /work/x.o] Error 139". */
const USER_TARGET_FAILED = /^make(?:\[\d+\])?: \*\*\* \[[^\]\n:]*:\d+: \/work\/([\w.]+)\] (.+)$/gm;

/**
 * How a build that got to the user's code failed without printing an error, as make saw it. A recipe runs
 * through the shell, which reports a child killed by signal N as exit 128 + N; a command make ran itself
 * is reported by the signal's description ("Segmentation fault").
 */
function silentFailure(run: SandboxRun): { phrase: string; crashed: boolean } {
  const report = [...run.output.matchAll(USER_TARGET_FAILED)].at(-1);
  if (!report) {
    const phrase = `the build failed on this code without printing an error (make: ${describeExit(run.exitCode, run.signal)})`;
    return { phrase, crashed: false };
  }
  const [, target = '', reason = ''] = report;
  const tool = target.endsWith('.ko') ? 'the linker' : 'the compiler';
  const code = /^Error (\d+)/.exec(reason)?.[1];
  const crashed = code === undefined || Number(code) > 128;
  const how = code === undefined ? reason : describeExit(Number(code));
  return crashed
    ? { phrase: `${tool} crashed (${how}) on this code`, crashed }
    : { phrase: `${tool} failed (${how}) on this code without printing an error`, crashed };
}

const CRASH_HINT =
  'It printed no error: this is a toolchain bug that the code triggers, most often very deep nesting ' +
  '(of expressions, types or macro calls) overflowing the compiler’s stack. Simplifying that part usually ' +
  'avoids it; the full log has what the compiler printed.';

/**
 * Module.symvers comes with the kernel image: a build-only tree (a fresh worker serving builds while its
 * bzImage is still being made) has none, and modpost would fail on every kernel symbol. There the
 * compiler checks the code as ever; only the symbol check is off, and its warnings are not the user's.
 */
function symbolsChecked(buildDir: string): boolean {
  return existsSync(join(buildDir, 'Module.symvers'));
}

/** The make variable an M= build against this build dir needs (the bench's bare build uses it too). */
export function symbolCheckArgs(buildDir: string): string[] {
  return symbolsChecked(buildDir) ? [] : ['KBUILD_MODPOST_WARN=1'];
}

/** modpost's word on a kernel symbol it could not check without Module.symvers (one, or how many more). */
function uncheckedSymbol(block: DiagnosticBlock): boolean {
  const { severity, message } = block;
  return (
    severity === 'warning' &&
    (message.endsWith('] undefined!') || message.includes('unresolved symbol warnings'))
  );
}

/** A result for a build that never ran; callers fill in outcome, message and the like. */
function notBuilt(
  moduleName: string,
  environment: BuildEnvironment,
): Omit<ModuleBuild, 'outcome' | 'durationMs'> {
  return {
    moduleName,
    fileName: `${moduleName}.rs`,
    koPath: null,
    log: '',
    errors: 0,
    warnings: 0,
    firstErrors: '',
    omittedErrors: 0,
    diagnostics: [],
    limitHit: null,
    cancelled: false,
    silentFailure: null,
    message: null,
    environment,
    scratchDir: null,
    cleanup: async () => {},
  };
}

export async function buildModule(
  request: { source: string; fileName: string | null },
  tree: PreparedTree,
  options: BuildOptions,
): Promise<ModuleBuild> {
  const started = Date.now();
  const { limits } = options;
  const name = moduleName(request.fileName, request.source);
  const fileName = `${name}.rs`;
  const base = notBuilt(name, tree.environment);
  const sourceBytes = Buffer.byteLength(request.source, 'utf8');
  if (sourceBytes > limits.maxSourceKb * 1024) {
    return {
      ...base,
      outcome: 'limit',
      limitHit: 'source-size',
      message: `That source is ${Math.ceil(sourceBytes / 1024)} KB; modules up to ${limits.maxSourceKb} KB are built here. Trim it to the module that shows the problem.`,
      durationMs: Date.now() - started,
    };
  }

  const scratchDir = await mkdtemp(join(tmpdir(), 'rfl-build-'));
  const cleanup = () => rm(scratchDir, { recursive: true, force: true });
  await writeFile(join(scratchDir, fileName), request.source);
  await writeFile(join(scratchDir, 'Kbuild'), `obj-m := ${name}.o\n`);
  options.onProgress?.(`building ${fileName} against Linux ${tree.kernelVersion}`);

  const symbolsKnown = symbolsChecked(tree.buildDir);
  const run = await runSandboxed({
    command: [
      'make',
      '-C',
      '/kernel/src',
      'O=/kernel/build',
      ...makeArgs(tree.toolchain),
      ...symbolCheckArgs(tree.buildDir),
      'M=/work',
      'modules',
    ],
    readOnly: [
      { host: tree.sourceDir, inside: '/kernel/src' },
      { host: tree.buildDir, inside: '/kernel/build' },
      ...toolchainBinds(tree.toolchain),
    ],
    scratch: scratchDir,
    env: makeEnv(tree.toolchain),
    limits: compileLimits(limits),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const log = displayText(run.output);
  const diagnostics = parseDiagnostics(run.output).filter((block) => symbolsKnown || !uncheckedSymbol(block));
  const excerpt = firstErrors(diagnostics, options.maxErrorChars ?? 1500);
  const koPath = join(scratchDir, `${name}.ko`);
  const built = run.exitCode === 0 && existsSync(koPath);
  const counts = countDiagnostics(diagnostics);
  const result = {
    ...base,
    ...counts,
    log,
    diagnostics,
    firstErrors: excerpt.text,
    omittedErrors: excerpt.omitted,
    koPath: built ? koPath : null,
    limitHit: run.limitHit,
    cancelled: run.cancelled,
    durationMs: Date.now() - started,
    scratchDir,
    cleanup,
  };
  if (run.infrastructure) return { ...result, outcome: 'infrastructure', message: run.infrastructure };
  if (run.cancelled) return { ...result, outcome: 'limit', message: 'The build was cancelled.' };
  if (run.limitHit) return { ...result, outcome: 'limit', message: LIMIT_TEXT[run.limitHit](limits) };
  if (built) return { ...result, outcome: 'success' };
  if (!compilerStarted(run.output, name)) {
    return {
      ...result,
      outcome: 'infrastructure',
      message: `The build failed before the compiler started on the code (make: ${describeExit(run.exitCode, run.signal)}); see the full log.`,
    };
  }
  if (counts.errors > 0) return { ...result, outcome: 'compile-error' };
  const silent = silentFailure(run);
  return {
    ...result,
    outcome: 'compile-error',
    silentFailure: silent.phrase,
    message: silent.crashed ? CRASH_HINT : 'The full log has what the build printed.',
  };
}

/** In-tree Rust samples of a tree (samples/rust/*.rs, without the extension). */
export async function listSamples(tree: PreparedTree): Promise<string[]> {
  const dir = join(tree.sourceDir, 'samples', 'rust');
  if (!existsSync(dir)) return [];
  return (await readdir(dir))
    .filter((f) => f.endsWith('.rs'))
    .map((f) => f.slice(0, -3))
    .sort();
}

/**
 * Builds samples/rust/<name>.rs like a user module. An unknown name is answered as a compile error
 * (the user's request, not our failure, so never retried) with the list of samples in `message`.
 */
export async function buildSample(
  name: string,
  tree: PreparedTree,
  options: BuildOptions,
): Promise<ModuleBuild> {
  const samples = await listSamples(tree);
  if (!samples.includes(name)) {
    return {
      ...notBuilt(sanitize(name) || DEFAULT_NAME, tree.environment),
      outcome: 'compile-error',
      message: `Linux ${tree.kernelVersion} has no Rust sample "${name}"; its samples are: ${samples.join(', ') || 'none'}.`,
      durationMs: 0,
    };
  }
  const source = await readFile(join(tree.sourceDir, 'samples', 'rust', `${name}.rs`), 'utf8');
  return buildModule({ source, fileName: `${name}.rs` }, tree, options);
}

/**
 * Prepares a Rust-enabled kernel build directory (O=) next to an untouched source tree, once per
 * kernel version, config fragment and toolchain, under `<cacheDir>/trees/<key>`.
 *
 * The tree is built in `<key>.staging` and renamed into place with its stamp (versions, the
 * `make rustavailable` verdict, timings) only when every step succeeded, so a killed provisioning is
 * redone, never half-used. (A build-only tree that later needs bzImage is finished in place; its stamp
 * is rewritten last.) A lock file keeps two workers on one machine from building the same tree.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../config/logger.ts';
import type { Result } from '../../config/result.ts';
import type { BuildEnvironment } from '../contracts.ts';
import { readKernelVersionSync } from './kernel-source.ts';
import { acquireLock } from './lock.ts';
import {
  checkMinimums,
  makeArgs,
  makeEnv,
  type Toolchain,
  type ToolchainSpec,
  toolchainVersions,
} from './toolchain.ts';
import { compareVersions, kernelSeries } from './version.ts';

/** Tiny config plus Rust, loadable modules, the minimal Rust sample as a module, and what a boot needs. */
export const CONFIG_FRAGMENT: readonly string[] = [
  'CONFIG_64BIT=y',
  'CONFIG_MODULES=y',
  'CONFIG_MODULE_UNLOAD=y',
  'CONFIG_RUST=y',
  'CONFIG_SAMPLES=y',
  'CONFIG_SAMPLES_RUST=y',
  'CONFIG_SAMPLE_RUST_MINIMAL=m',
  'CONFIG_PRINTK=y',
  'CONFIG_TTY=y',
  'CONFIG_SERIAL_8250=y',
  'CONFIG_SERIAL_8250_CONSOLE=y',
  'CONFIG_BLK_DEV_INITRD=y',
  'CONFIG_BINFMT_ELF=y',
  'CONFIG_BINFMT_SCRIPT=y',
  'CONFIG_PROC_FS=y',
  'CONFIG_SYSFS=y',
  'CONFIG_DEVTMPFS=y',
];

export interface PreparedTree {
  key: string;
  sourceDir: string;
  buildDir: string;
  kernelVersion: string;
  series: string;
  environment: BuildEnvironment;
  toolchain: Toolchain;
  /** What `make rustavailable` said (its warnings and verdict), for the provisioning report. */
  rustAvailable: string;
  /** Null for a build-only tree (prepared with boot: false). */
  bzImage: string | null;
  /** In-tree Rust samples built as modules (names without .ko). */
  sampleModules: string[];
  /** Seconds per step of the preparation. */
  timings: Record<string, number>;
}

/** A prepared tree, and whether it was in the cache already. */
export type PrepareResult = Result<{ tree: PreparedTree; cached: boolean }>;

/** A failed preparation: the operator reads the same sentence in provision's output and the log. */
function refused(text: string): PrepareResult {
  return { ok: false, failure: { userText: text, logText: text } };
}

export interface PrepareOptions {
  source: string;
  /** The toolchain its series names in config (fetched already: jobs/kernel/toolchain.ts fetchToolchain). */
  toolchain: Toolchain;
  /** Minimums from config; empty ones are read from the tree's scripts/min-tool-version.sh. */
  minimums?: Pick<ToolchainSpec, 'minRustc' | 'minBindgen'>;
  cacheDir: string;
  log: Logger;
  onProgress?: (text: string) => void;
  /** Also build bzImage and the sample modules (default); false stops after modules_prepare. */
  boot?: boolean;
  /** Config lines on top of tinyconfig; defaults to CONFIG_FRAGMENT. */
  configFragment?: readonly string[];
}

interface Stamp extends Omit<PreparedTree, 'buildDir' | 'key'> {
  format: 1;
  configFragment: readonly string[];
  preparedAt: string;
}

const STAMP = 'stamp.json';
const BUILD = 'build';

/** VERSION.PATCHLEVEL.SUBLEVEL from the top Makefile ("6.1.192"). */
export async function readKernelVersion(sourceDir: string): Promise<string | null> {
  return readKernelVersionSync(sourceDir);
}

/** `6.1.192-<hash of source path, config fragment and tool versions>`. */
export function treeKey(input: {
  kernelVersion: string;
  sourceDir: string;
  configFragment: readonly string[];
  versions: Omit<BuildEnvironment, 'kernelVersion'>;
}): string {
  const hash = createHash('sha256')
    .update(JSON.stringify([input.sourceDir, [...input.configFragment].sort(), input.versions]))
    .digest('hex');
  return `${input.kernelVersion}-${hash.slice(0, 12)}`;
}

function treesDir(cacheDir: string): string {
  return join(cacheDir, 'trees');
}

async function readStamp(dir: string, key: string): Promise<PreparedTree | null> {
  try {
    const stamp = JSON.parse(await readFile(join(dir, STAMP), 'utf8')) as Stamp;
    if (stamp.format !== 1 || !existsSync(join(stamp.sourceDir, 'Makefile'))) return null;
    const { format: _format, configFragment: _fragment, preparedAt: _at, ...tree } = stamp;
    // Stamps from before toolchains were configured name system tools only.
    const toolchain = {
      ...stamp.toolchain,
      name: stamp.toolchain.name ?? 'debian-system',
      prefixes: stamp.toolchain.prefixes ?? [],
    };
    return { ...tree, toolchain, key, buildDir: join(dir, BUILD) };
  } catch {
    return null;
  }
}

/** Every complete tree in the cache (those with a stamp), newest kernel first. */
export async function listPreparedTrees(cacheDir: string): Promise<PreparedTree[]> {
  const root = treesDir(cacheDir);
  if (!existsSync(root)) return [];
  const trees: PreparedTree[] = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.includes('.staging')) continue;
    const tree = await readStamp(join(root, entry.name), entry.name);
    if (tree) trees.push(tree);
  }
  return trees.sort((a, b) => compareVersions(b.kernelVersion, a.kernelVersion));
}

/**
 * The prepared tree of a source tree with a toolchain, preferring a bootable one: a tree in the cache
 * from another source or toolchain (a leftover, another tarball) never stands in for it.
 */
export async function findPreparedTree(
  cacheDir: string,
  wanted: { sourceDir: string; toolchain: Pick<Toolchain, 'rustc'> },
): Promise<PreparedTree | null> {
  const trees = (await listPreparedTrees(cacheDir)).filter(
    (tree) => tree.sourceDir === wanted.sourceDir && tree.toolchain.rustc === wanted.toolchain.rustc,
  );
  return trees.find((tree) => tree.bzImage !== null) ?? trees[0] ?? null;
}

interface CommandRun {
  code: number | null;
  /** The last 64 KB, for the verdict and for error messages. */
  output: string;
}

/** Runs a command with a scrubbed environment, its output appended to the preparation log. */
function runLogged(
  command: string,
  args: string[],
  env: Record<string, string>,
  logFile: string,
): Promise<CommandRun> {
  return new Promise((resolve) => {
    const logStream = createWriteStream(logFile, { flags: 'a' });
    logStream.write(`\n$ ${command} ${args.join(' ')}\n`);
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      logStream.write(chunk);
      output = (output + chunk.toString('utf8')).slice(-64 * 1024);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => {
      logStream.end();
      resolve({ code: null, output: `${output}\n${error.message}` });
    });
    child.on('close', (code) => {
      logStream.end();
      resolve({ code, output });
    });
  });
}

/** make's own chatter removed, leaving the warnings and verdict of `make rustavailable`. */
function verdictText(output: string): string {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^make(\[\d+\])?: /.test(line))
    .join('\n');
}

async function sampleModules(buildDir: string): Promise<string[]> {
  const dir = join(buildDir, 'samples', 'rust');
  if (!existsSync(dir)) return [];
  return (await readdir(dir))
    .filter((f) => f.endsWith('.ko'))
    .map((f) => f.slice(0, -3))
    .sort();
}

function scriptsConfigArgs(fragment: readonly string[]): string[] {
  return fragment.flatMap((line) => {
    const [name, value] = line.replace(/^CONFIG_/, '').split('=');
    if (!name) return [];
    if (value === 'y') return ['--enable', name];
    if (value === 'm') return ['--module', name];
    if (value === 'n') return ['--disable', name];
    return ['--set-val', name, value ?? ''];
  });
}

/** Builds (or finds cached) the prepared tree for a kernel source. */
export async function prepareTree(options: PrepareOptions): Promise<PrepareResult> {
  const { source, cacheDir, log } = options;
  const boot = options.boot ?? true;
  const progress = (text: string) => {
    log.info({ source }, text);
    options.onProgress?.(text);
  };
  const kernelVersion = await readKernelVersion(source);
  if (!kernelVersion) {
    return refused(`${source} does not look like a kernel tree (no version in its Makefile).`);
  }
  const { toolchain } = options;
  const versions = await toolchainVersions(toolchain);
  const missing = Object.entries(versions).filter(([, v]) => v === 'missing');
  if (missing.length > 0) {
    return refused(
      `The toolchain "${toolchain.name}" for ${kernelVersion} is incomplete: ${missing.map(([tool]) => tool).join(', ')} not found (npm run provision fetches it; scripts/bootstrap.sh installs the system tools).`,
    );
  }
  const minimums = await checkMinimums(
    source,
    kernelVersion,
    toolchain,
    options.minimums ?? { minRustc: '', minBindgen: '' },
    versions,
  );
  if (!minimums.ok) return minimums;
  const configFragment = options.configFragment ?? CONFIG_FRAGMENT;
  const key = treeKey({ kernelVersion, sourceDir: source, configFragment, versions });
  const root = treesDir(cacheDir);
  const finalDir = join(root, key);

  const cached = await readStamp(finalDir, key);
  if (cached && (cached.bzImage !== null || !boot))
    return { ok: true, value: { tree: cached, cached: true } };

  await mkdir(root, { recursive: true });
  const release = await acquireLock(join(root, `${key}.lock`), () =>
    progress(`another process is preparing kernel ${kernelVersion}; waiting for it`),
  );
  try {
    const ready = await readStamp(finalDir, key);
    if (ready && (ready.bzImage !== null || !boot)) return { ok: true, value: { tree: ready, cached: true } };
    return await build({ ...options, boot, kernelVersion, toolchain, versions, configFragment, key, ready });
  } finally {
    await release();
  }
}

interface BuildInput extends PrepareOptions {
  boot: boolean;
  kernelVersion: string;
  toolchain: Toolchain;
  versions: Omit<BuildEnvironment, 'kernelVersion'>;
  configFragment: readonly string[];
  key: string;
  /** A complete build-only tree that now also needs bzImage. */
  ready: PreparedTree | null;
}

async function build(input: BuildInput): Promise<PrepareResult> {
  const { source, cacheDir, log, kernelVersion, toolchain, key } = input;
  const root = treesDir(cacheDir);
  const finalDir = join(root, key);
  // Finishing a build-only tree happens in place: its stamp is only rewritten at the end.
  const dir = input.ready ? finalDir : join(root, `${key}.staging`);
  const buildDir = join(dir, BUILD);
  const logFile = join(dir, 'prepare.log');
  const progress = (text: string) => {
    log.info({ key }, text);
    input.onProgress?.(text);
  };
  const timings: Record<string, number> = { ...input.ready?.timings };
  const fail = (step: string, run: CommandRun): PrepareResult => {
    log.error({ key, step, tail: run.output.slice(-4000) }, 'kernel tree preparation failed');
    return refused(
      `Preparing kernel ${kernelVersion} failed at ${step}; the full log is ${logFile}.\n${run.output.trim().split('\n').slice(-8).join('\n')}`,
    );
  };
  const step = async (name: string, targets: string[], hint: string): Promise<CommandRun> => {
    progress(`kernel ${kernelVersion}: make ${targets.join(' ')}${hint}`);
    const started = Date.now();
    const args = [
      '-C',
      source,
      `O=${buildDir}`,
      ...makeArgs(toolchain),
      `-j${availableParallelism()}`,
      ...targets,
    ];
    const run = await runLogged('make', args, makeEnv(toolchain), logFile);
    timings[name] = (Date.now() - started) / 1000;
    return run;
  };

  let rustAvailable = input.ready?.rustAvailable ?? '';
  if (!input.ready) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(buildDir, { recursive: true });
    const available = await step('rustavailable', ['rustavailable'], '');
    rustAvailable = verdictText(available.output);
    if (available.code !== 0) return fail('make rustavailable', available);

    const tiny = await step('config', ['tinyconfig'], '');
    if (tiny.code !== 0) return fail('make tinyconfig', tiny);
    const configFile = join(buildDir, '.config');
    const scripted = await runLogged(
      join(source, 'scripts', 'config'),
      ['--file', configFile, ...scriptsConfigArgs(input.configFragment)],
      makeEnv(toolchain),
      logFile,
    );
    if (scripted.code !== 0) return fail('scripts/config', scripted);
    const olddefconfig = await step('olddefconfig', ['olddefconfig'], '');
    if (olddefconfig.code !== 0) return fail('make olddefconfig', olddefconfig);
    if (!/^CONFIG_RUST=y$/m.test(await readFile(configFile, 'utf8'))) {
      return refused(
        `CONFIG_RUST=y did not survive olddefconfig for kernel ${kernelVersion}: a dependency of RUST is missing from the config fragment or the toolchain (make rustavailable said:\n${rustAvailable})`,
      );
    }
    const prepared = await step('modules_prepare', ['modules_prepare'], ' (about a minute)');
    if (prepared.code !== 0) return fail('make modules_prepare', prepared);
  }
  if (input.boot) {
    const images = await step('bzImage_modules', ['bzImage', 'modules'], ' (several minutes, once)');
    if (images.code !== 0) return fail('make bzImage modules', images);
  }

  const bzImagePath = join(finalDir, BUILD, 'arch', 'x86', 'boot', 'bzImage');
  const stamp: Stamp = {
    format: 1,
    sourceDir: source,
    kernelVersion,
    series: kernelSeries(kernelVersion),
    environment: { kernelVersion, ...input.versions },
    toolchain,
    rustAvailable,
    bzImage: input.boot ? bzImagePath : null,
    sampleModules: input.boot ? await sampleModules(buildDir) : [],
    timings,
    configFragment: input.configFragment,
    preparedAt: new Date().toISOString(),
  };
  await writeFile(join(dir, `${STAMP}.tmp`), JSON.stringify(stamp, null, 2));
  await rename(join(dir, `${STAMP}.tmp`), join(dir, STAMP));
  if (dir !== finalDir) {
    await rm(finalDir, { recursive: true, force: true });
    await rename(dir, finalDir);
  }
  progress(`kernel ${kernelVersion}: tree ready in ${finalDir}`);
  const tree = await readStamp(finalDir, key);
  return tree ? { ok: true, value: { tree, cached: false } } : refused(`The tree in ${finalDir} vanished.`);
}

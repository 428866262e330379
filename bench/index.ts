/**
 * Benchmark: our search index against stock lunr (defaults) on the same passages, side by side.
 *
 *   npm run bench [-- --corpus <dir>] [-- --kernel <kernel tree>] [--queries 1000]
 *
 * Corpora: (a) the Rust docs corpus (default ../shared/corpus beside the clone), (b) the whole
 * Documentation/ tree of the kernel source the bot itself would use (config kernel.src / KERNEL_SRC,
 * else the Debian linux-source tree under the cache dir; see jobs/kernel/kernel-source.ts). Without (b) the
 * bench fails: the targets are set on it; (c) what the bot itself indexes: every configured kernel series
 * side by side, the FAQ and the Markdown trees (knowledge/kernel-trees.ts), with the bot's own targets for
 * load time and retrieve() latency. Besides raw index search, ours is also timed through retrieve(), the
 * bot's real query path (query analysis, thesaurus, ranking priors, confidence).
 * Every step runs in a child process of its own so memory peaks don't mix: one child ingests and saves
 * the passages as JSON; per engine, one child builds from them (build time, peak RSS, saved size) and
 * another loads the saved index and queries it (load time, p50/p95 latency). Stock lunr gets the same
 * fields, and each question through its own tokenizer and trimmer into `q.term`, so it cannot throw.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import lunr from 'lunr';
import { loadConfig } from '../config/load.ts';
import { createLogger } from '../config/logger.ts';
import { findKernelSource, kernelPlan } from '../jobs/kernel/kernel-source.ts';
import { ingestCorpus } from '../knowledge/ingest/corpus.ts';
import { ingestKernelTree } from '../knowledge/ingest/kernel-tree.ts';
import { configuredSources } from '../knowledge/kernel-trees.ts';
import { ingestSources } from '../knowledge/knowledge-base.ts';
import type { Passage } from '../knowledge/passage.ts';
import { retrieve } from '../knowledge/retrieve.ts';
import { FIELD_BOOSTS, queryTerms, SearchIndex } from '../knowledge/search-index.ts';
import { buildStockLunr, searchStockLunr } from '../knowledge/stock-lunr.ts';

type Engine = 'ours' | 'lunr';
type Source = 'corpus' | 'kernel' | 'bot';

interface BuildResult {
  passages: number;
  buildMs: number;
  rssBeforeMb: number;
  peakRssMb: number;
  saveMs: number;
  savedMb: number;
}

interface QueryResult {
  loadMs: number;
  p50Ms: number;
  p95Ms: number;
  meanHits: number;
  /** The same questions through retrieve() (ours only). */
  retrieveP50Ms?: number;
  retrieveP95Ms?: number;
}

// ---- the query list --------------------------------------------------------------------------------

/** Things newcomers ask about: Rust-for-Linux first, then the rest of the kernel docs. */
const TOPICS = [
  'CONFIG_RUST=y',
  'kernel::prelude',
  'pr_info!',
  'make LLVM=1',
  'rust-analyzer',
  'bindgen',
  'samples/rust/rust_minimal.rs',
  'make rustavailable',
  'libclang',
  'the rust-src component',
  'rustfmt',
  'clippy lints',
  'SAFETY comments on unsafe blocks',
  'module_param',
  'KUnit doctests',
  'an out-of-tree module',
  'Kbuild Makefiles',
  'menuconfig',
  'the minimum rustc version',
  'Documentation/process/changes.rst',
  'ThisModule',
  'error codes and Result',
  'arm64 support',
  'the module! macro',
  'the GCC backend',
  'submitting patches',
  'the mailing list',
  'git send-email',
  'scripts/checkpatch.pl',
  'spinlocks',
  'RCU',
  'sysfs attributes',
  'printk format specifiers',
  'kernel-doc comments',
  'device tree bindings',
  'DMA mapping',
  'cgroup v2',
  'the scheduler',
  'memory barriers',
  'ftrace',
  'KASAN',
  'rustc 1.62.0',
  'kernel 6.1',
];

const TEMPLATES = [
  (t: string) => t,
  (t: string) => `how do I use ${t}?`,
  (t: string) => `what is ${t} for`,
  (t: string) => `${t} doesn't work when building the kernel, any idea why?!`,
  (t: string) => `where are ${t} documented`,
  (t: string) => `Is ${t} required for writing a driver in Rust?`,
  (t: string) => `help: error with ${t} (make fails)`,
  (t: string) => `can someone explain ${t} to a newcomer? thanks :)`,
  (t: string) => `${t} vs C`,
  (t: string) => `which version of ${t} does 6.1 need`,
];

/** A fixed list of `count` questions, every topic in every phrasing before any repeats. */
function benchQueries(count: number): string[] {
  const all = TEMPLATES.flatMap((template, i) =>
    TOPICS.map((_, j) => template(TOPICS[(j + i * 7) % TOPICS.length]!)),
  );
  return Array.from({ length: count }, (_, i) => all[i % all.length]!);
}

// ---- children --------------------------------------------------------------------------------------

async function loadPassages(source: Source, dir: string): Promise<Passage[]> {
  if (source === 'corpus') return (await ingestCorpus(dir)).passages;
  if (source === 'kernel') return (await ingestKernelTree(dir, { wholeDocumentation: true })).passages;
  const { config, log } = benchConfig();
  return (await ingestSources(await configuredSources(config, log), log)).passages;
}

function benchConfig() {
  const loaded = loadConfig();
  if (!loaded.ok) throw new Error(`the configuration is invalid: ${loaded.problems.join('; ')}`);
  return { config: loaded.config, log: createLogger({ logLevel: 'warn', logFormat: 'json' }) };
}

const megabytes = (bytes: number) => bytes / 2 ** 20;

/** Ingests once and saves the passages, so build children start from the same, lean heap. */
async function ingestChild(source: Source, dir: string, file: string): Promise<{ passages: number }> {
  const passages = await loadPassages(source, dir);
  writeFileSync(file, JSON.stringify(passages));
  return { passages: passages.length };
}

function buildChild(engine: Engine, passagesFile: string, file: string): BuildResult {
  const passages = JSON.parse(readFileSync(passagesFile, 'utf8')) as Passage[];
  globalThis.gc?.();
  const rssBeforeMb = megabytes(process.memoryUsage().rss);
  const started = performance.now();
  const index = engine === 'ours' ? SearchIndex.build(passages) : buildStockLunr(passages);
  const buildMs = performance.now() - started;
  // Read before saving: the peak is the build's, not the serializer's.
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const saveStarted = performance.now();
  writeFileSync(file, index instanceof SearchIndex ? index.serialize() : JSON.stringify(index));
  const saveMs = performance.now() - saveStarted;
  return {
    passages: passages.length,
    buildMs,
    rssBeforeMb,
    peakRssMb,
    saveMs,
    savedMb: megabytes(statSync(file).size),
  };
}

function percentiles(times: number[]): { p50: number; p95: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  return { p50: at(0.5), p95: at(0.95) };
}

function timeEach(questions: string[], run: (question: string) => number): { times: number[]; hits: number } {
  const times: number[] = [];
  let hits = 0;
  for (const question of questions) {
    const start = performance.now();
    hits += run(question);
    times.push(performance.now() - start);
  }
  return { times, hits };
}

function queryChild(engine: Engine, file: string, count: number, defaultSeries: string | null): QueryResult {
  const started = performance.now();
  const bytes = readFileSync(file);
  const ours = engine === 'ours' ? SearchIndex.load(bytes) : null;
  const stock = ours ? null : lunr.Index.load(JSON.parse(bytes.toString('utf8')));
  const loadMs = performance.now() - started;
  const questions = benchQueries(count);
  const search = ours
    ? (q: string) => ours.search(queryTerms(q), { limit: 10 }).length
    : (q: string) => searchStockLunr(stock!, q).slice(0, 10).length;
  const raw = timeEach(questions, search);
  const { p50, p95 } = percentiles(raw.times);
  const result: QueryResult = { loadMs, p50Ms: p50, p95Ms: p95, meanHits: raw.hits / Math.max(1, count) };
  if (ours) {
    const real = percentiles(
      timeEach(questions, (q) => retrieve(ours, q, { defaultSeries }).hits.length).times,
    );
    result.retrieveP50Ms = real.p50;
    result.retrieveP95Ms = real.p95;
  }
  return result;
}

function runChild<T>(args: string[]): T {
  const child = spawnSync(process.execPath, ['--expose-gc', import.meta.filename, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (child.status !== 0) throw new Error(`bench child ${args.join(' ')} failed:\n${child.stderr}`);
  const lines = child.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? 'null') as T;
}

// ---- report ----------------------------------------------------------------------------------------

type Measured = BuildResult & QueryResult;

function table(title: string, ours: Measured, stock: Measured): string {
  const rows: [string, number, number | null, string, 'lower' | 'info'][] = [
    ['build (s)', ours.buildMs / 1000, stock.buildMs / 1000, 'x faster', 'lower'],
    ['peak RSS (MB)', ours.peakRssMb, stock.peakRssMb, 'x less', 'lower'],
    ['  RSS before build (MB)', ours.rssBeforeMb, stock.rssBeforeMb, '', 'info'],
    [
      '  build growth (MB)',
      ours.peakRssMb - ours.rssBeforeMb,
      stock.peakRssMb - stock.rssBeforeMb,
      'x less',
      'lower',
    ],
    ['save (ms)', ours.saveMs, stock.saveMs, 'x faster', 'lower'],
    ['saved index (MB)', ours.savedMb, stock.savedMb, 'x smaller', 'lower'],
    ['load (ms)', ours.loadMs, stock.loadMs, 'x faster', 'lower'],
    ['query p50 (ms)', ours.p50Ms, stock.p50Ms, 'x faster', 'lower'],
    ['query p95 (ms)', ours.p95Ms, stock.p95Ms, 'x faster', 'lower'],
    ['retrieve() p50 (ms)', ours.retrieveP50Ms ?? 0, null, '', 'info'],
    ['retrieve() p95 (ms)', ours.retrieveP95Ms ?? 0, null, '', 'info'],
    ['mean hits (top 10)', ours.meanHits, stock.meanHits, '', 'info'],
  ];
  const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
  const lines = [
    `${title}: ${ours.passages} passages`,
    `${'metric'.padEnd(26)}${'ours'.padStart(10)}${'stock lunr'.padStart(12)}   ratio`,
  ];
  for (const [name, a, b, unit, kind] of rows) {
    const ratio = kind === 'lower' && a > 0 && b !== null ? `${(b / a).toFixed(1)}${unit}` : '';
    lines.push(
      `${name.padEnd(26)}${fmt(a).padStart(10)}${(b === null ? '-' : fmt(b)).padStart(12)}   ${ratio}`,
    );
  }
  return lines.join('\n');
}

interface Target {
  name: string;
  pass: boolean;
  measured: string;
}

/** The targets the index was built for, judged on the whole-Documentation corpus. */
function targets(ours: Measured, stock: Measured): Target[] {
  const ms = (n: number) => `${n.toFixed(2)} ms`;
  return [
    {
      name: 'build >= 2x faster than stock lunr',
      pass: stock.buildMs >= 2 * ours.buildMs,
      measured: `${(stock.buildMs / ours.buildMs).toFixed(1)}x (${(ours.buildMs / 1000).toFixed(1)} s vs ${(stock.buildMs / 1000).toFixed(1)} s)`,
    },
    {
      name: 'peak RSS <= 0.5x stock lunr',
      pass: ours.peakRssMb <= 0.5 * stock.peakRssMb,
      measured: `${(ours.peakRssMb / stock.peakRssMb).toFixed(2)}x (${ours.peakRssMb.toFixed(0)} MB vs ${stock.peakRssMb.toFixed(0)} MB)`,
    },
    { name: 'query p95 < 5 ms (index search)', pass: ours.p95Ms < 5, measured: ms(ours.p95Ms) },
    {
      name: 'query p95 < 5 ms (retrieve(), the bot path)',
      pass: (ours.retrieveP95Ms ?? Number.POSITIVE_INFINITY) < 5,
      measured: ms(ours.retrieveP95Ms ?? Number.NaN),
    },
    { name: 'saved-index load < 1 s', pass: ours.loadMs < 1000, measured: ms(ours.loadMs) },
  ];
}

/** The bot's own targets, on what it indexes: every configured series, the FAQ, the Markdown trees. */
function botTargets(ours: Measured, stock: Measured): Target[] {
  const ratio = (a: number, b: number) => `${(b / a).toFixed(1)}x faster than stock lunr`;
  return [
    {
      name: 'retrieve() p95 < 2 ms (the bot path)',
      pass: (ours.retrieveP95Ms ?? Number.POSITIVE_INFINITY) < 2,
      measured: `${(ours.retrieveP95Ms ?? Number.NaN).toFixed(2)} ms (${((ours.retrieveP95Ms ?? 0) / 2).toFixed(2)} of the target; index search ${ratio(ours.p95Ms, stock.p95Ms)})`,
    },
    {
      name: 'saved-index load < 150 ms',
      pass: ours.loadMs < 150,
      measured: `${ours.loadMs.toFixed(1)} ms (${(ours.loadMs / 150).toFixed(2)} of the target; ${ratio(ours.loadMs, stock.loadMs)})`,
    },
  ];
}

/** The whole-Documentation tree: --kernel, else the kernel source the bot's own lookup finds. */
async function kernelTree(
  explicit: string | undefined,
): Promise<{ ok: true; path: string } | { ok: false; why: string }> {
  if (explicit) {
    return existsSync(join(explicit, 'Documentation'))
      ? { ok: true, path: explicit }
      : { ok: false, why: `--kernel ${explicit} has no Documentation/ folder` };
  }
  const loaded = loadConfig();
  if (!loaded.ok) return { ok: false, why: `the configuration is invalid: ${loaded.problems.join('; ')}` };
  const log = createLogger({ logLevel: 'warn', logFormat: 'json' });
  const { config } = loaded;
  const source = await findKernelSource({ kernel: config.kernel, cacheDir: config.cacheDir, log });
  if (!source.ok) return { ok: false, why: source.userMessage };
  if (!existsSync(join(source.path, 'Documentation')))
    return { ok: false, why: `the kernel tree ${source.path} has no Documentation/ folder` };
  return { ok: true, path: source.path };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      corpus: { type: 'string', default: resolve(import.meta.dirname, '../../shared/corpus') },
      kernel: { type: 'string' },
      queries: { type: 'string', default: '1000' },
      child: { type: 'string' },
      engine: { type: 'string' },
      source: { type: 'string' },
      dir: { type: 'string' },
      file: { type: 'string' },
      'default-series': { type: 'string' },
    },
  });
  const count = Number(values.queries);
  if (values.child) {
    const engine = values.engine as Engine;
    const result =
      values.child === 'ingest'
        ? await ingestChild(values.source as Source, values.dir!, values.file!)
        : values.child === 'build'
          ? buildChild(engine, values.dir!, values.file!)
          : queryChild(engine, values.file!, count, values['default-series'] ?? null);
    console.log(JSON.stringify(result));
    return;
  }

  const kernel = await kernelTree(values.kernel);
  if (!kernel.ok) {
    console.error(
      `\nBENCH FAILED: no kernel tree for the whole-Documentation corpus, which the targets are measured on.\n${kernel.why}\nRun scripts/bootstrap.sh (or npm run provision), or pass --kernel <tree>.\n`,
    );
    process.exit(1);
  }
  const corpora: [string, Source, string][] = [];
  if (existsSync(values.corpus))
    corpora.push([`Rust docs corpus (${values.corpus})`, 'corpus', values.corpus]);
  else
    console.error(
      `warning: the Rust docs corpus ${values.corpus} does not exist; measuring the kernel tree only`,
    );
  corpora.push([`whole Documentation/ (${kernel.path})`, 'kernel', kernel.path]);
  const { config } = benchConfig();
  const plan = kernelPlan(config.kernel, config.cacheDir);
  const defaultSeries = plan.ok ? plan.value.defaultSeries : null;
  const series = plan.ok ? plan.value.series.map((entry) => entry.series).join(' and ') : 'none';
  corpora.push([`what the bot indexes (series ${series}, FAQ, Markdown trees)`, 'bot', '']);

  const scratch = mkdtempSync(join(tmpdir(), 'rfl-bench-'));
  let failed = false;
  try {
    console.log(`field boosts (ours): ${JSON.stringify(FIELD_BOOSTS)}; ${count} queries per engine\n`);
    for (const [title, source, dir] of corpora) {
      const passagesFile = join(scratch, `${source}.json`);
      runChild(['--child', 'ingest', '--source', source, '--dir', dir, '--file', passagesFile]);
      const measure = (engine: Engine): Measured => {
        const file = join(scratch, `${source}-${engine}.idx`);
        const build = runChild<BuildResult>([
          '--child',
          'build',
          '--engine',
          engine,
          '--dir',
          passagesFile,
          '--file',
          file,
        ]);
        const query = runChild<QueryResult>([
          '--child',
          'query',
          '--engine',
          engine,
          '--file',
          file,
          '--queries',
          String(count),
          ...(defaultSeries ? ['--default-series', defaultSeries] : []),
        ]);
        rmSync(file);
        return { ...build, ...query };
      };
      const [ours, stock] = [measure('ours'), measure('lunr')];
      console.log(`${table(title, ours, stock)}\n`);
      if (source !== 'corpus') {
        console.log(source === 'kernel' ? 'targets (whole Documentation/):' : "targets (the bot's index):");
        for (const target of source === 'kernel' ? targets(ours, stock) : botTargets(ours, stock)) {
          failed ||= !target.pass;
          console.log(`${target.pass ? 'PASS' : 'FAIL'}  ${target.name.padEnd(44)} ${target.measured}`);
        }
        console.log('');
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (failed) {
    console.error('\nBENCH FAILED: a target was missed (see the FAIL lines above).');
    process.exitCode = 1;
  }
}

await main();

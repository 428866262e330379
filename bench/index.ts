/**
 * Benchmark: our search index against stock lunr (defaults) on the same passages, side by side.
 *
 *   npm run bench [-- --corpus <dir>] [-- --kernel <kernel tree>] [--queries 1000]
 *
 * Corpora: (a) the Rust docs corpus, (b) the whole Documentation/ tree of a kernel source tree.
 * Every step runs in a child process of its own so memory peaks don't mix: one child ingests and saves
 * the passages as JSON; per engine, one child builds from them (build time, peak RSS, saved size) and
 * another loads the saved index and queries it (load time, p50/p95 latency). Stock lunr gets the same
 * fields, and each question through its own tokenizer and trimmer into `q.term`, so it cannot throw.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import lunr from 'lunr';
import { ingestCorpus } from '../knowledge/ingest/corpus.ts';
import { ingestKernelTree } from '../knowledge/ingest/kernel-tree.ts';
import type { Passage } from '../knowledge/passage.ts';
import { FIELD_BOOSTS, FIELDS, fieldTexts, queryTerms, SearchIndex } from '../knowledge/search-index.ts';

type Engine = 'ours' | 'lunr';
type Source = 'corpus' | 'kernel';

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

// ---- the engines -----------------------------------------------------------------------------------

function buildStockLunr(passages: Passage[]): lunr.Index {
  return lunr(function () {
    this.ref('id');
    for (const field of FIELDS) this.field(field);
    passages.forEach((passage) => {
      this.add({ id: passage.id, ...fieldTexts(passage) });
    });
  });
}

/** Stock lunr's own tokenizer and trimmer, then `q.term` (stemmed by its search pipeline): never throws. */
function searchStockLunr(index: lunr.Index, question: string): lunr.Index.Result[] {
  return index.query((q) => {
    for (const token of lunr.tokenizer(question)) {
      const term = lunr.trimmer(token).toString().replaceAll('*', '');
      if (term !== '') q.term(term, {});
    }
  });
}

// ---- children --------------------------------------------------------------------------------------

async function loadPassages(source: Source, dir: string): Promise<Passage[]> {
  if (source === 'corpus') return (await ingestCorpus(dir)).passages;
  return (await ingestKernelTree(dir, { wholeDocumentation: true })).passages;
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

function queryChild(engine: Engine, file: string, count: number): QueryResult {
  const started = performance.now();
  const bytes = readFileSync(file);
  const search =
    engine === 'ours'
      ? (
          (index: SearchIndex) => (q: string) =>
            index.search(queryTerms(q), { limit: 10 }).length
        )(SearchIndex.load(bytes))
      : (
          (index: lunr.Index) => (q: string) =>
            searchStockLunr(index, q).slice(0, 10).length
        )(lunr.Index.load(JSON.parse(bytes.toString('utf8'))));
  const loadMs = performance.now() - started;
  const times: number[] = [];
  let hits = 0;
  for (const question of benchQueries(count)) {
    const start = performance.now();
    hits += search(question);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const percentile = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0;
  return { loadMs, p50Ms: percentile(0.5), p95Ms: percentile(0.95), meanHits: hits / Math.max(1, count) };
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

function table(title: string, ours: BuildResult & QueryResult, stock: BuildResult & QueryResult): string {
  const rows: [string, number, number, string, 'lower' | 'info'][] = [
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
    ['mean hits (top 10)', ours.meanHits, stock.meanHits, '', 'info'],
  ];
  const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
  const lines = [
    `${title}: ${ours.passages} passages`,
    `${'metric'.padEnd(26)}${'ours'.padStart(10)}${'stock lunr'.padStart(12)}   ratio`,
  ];
  for (const [name, a, b, unit, kind] of rows) {
    const ratio = kind === 'lower' && a > 0 ? `${(b / a).toFixed(1)}${unit}` : '';
    lines.push(`${name.padEnd(26)}${fmt(a).padStart(10)}${fmt(b).padStart(12)}   ${ratio}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      corpus: { type: 'string', default: '/work/shared/corpus' },
      kernel: { type: 'string', default: '/root/.cache/rfl-onboard/kernels/linux-source-6.1' },
      queries: { type: 'string', default: '1000' },
      child: { type: 'string' },
      engine: { type: 'string' },
      source: { type: 'string' },
      dir: { type: 'string' },
      file: { type: 'string' },
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
          : queryChild(engine, values.file!, count);
    console.log(JSON.stringify(result));
    return;
  }

  const scratch = mkdtempSync(join(tmpdir(), 'rfl-bench-'));
  try {
    console.log(`field boosts (ours): ${JSON.stringify(FIELD_BOOSTS)}; ${count} queries per engine\n`);
    const corpora: [string, Source, string][] = [
      [`Rust docs corpus (${values.corpus})`, 'corpus', values.corpus],
      [`whole Documentation/ (${values.kernel})`, 'kernel', values.kernel],
    ];
    for (const [title, source, dir] of corpora) {
      if (!existsSync(dir)) {
        console.log(`${title}: skipped, ${dir} does not exist\n`);
        continue;
      }
      const passagesFile = join(scratch, `${source}.json`);
      runChild(['--child', 'ingest', '--source', source, '--dir', dir, '--file', passagesFile]);
      const measure = (engine: Engine) => {
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
        ]);
        rmSync(file);
        return { ...build, ...query };
      };
      console.log(`${table(title, measure('ours'), measure('lunr'))}\n`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();

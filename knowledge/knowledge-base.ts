/**
 * The knowledge base: every configured tree ingested into passages, and the search index over them.
 * Ingest is fast and always runs; the index is the slow part, so it is saved under the cache dir,
 * keyed by a hash of the ingested content and of the code that shapes the index, and rebuilt only
 * when either changes.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../config/logger.ts';
import type { FaqEntry } from './answer-types.ts';
import { ingestCorpus } from './ingest/corpus.ts';
import { ingestFaq } from './ingest/faq.ts';
import { ingestKernelTree, isMainlineTree, type SourceDeclaration } from './ingest/kernel-tree.ts';
import { ingestMarkdownTree } from './ingest/markdown.ts';
import type { Passage, TreeInfo } from './passage.ts';
import { SearchIndex } from './search-index.ts';

export interface KnowledgeSources {
  /** Folders holding several trees side by side (kernel trees and Markdown trees, told apart by content). */
  corpora?: string[];
  kernelTrees: string[];
  markdownTrees: { path: string; id?: string | undefined; baseUrl?: string | undefined }[];
  faqDir: string | null;
  wholeDocumentation: boolean;
  /**
   * The series a question naming no version is answered from (kernel.default). Unset: the newest, which
   * is MAINLINE_SERIES when an unversioned kernel tree (mainline docs) is indexed, else no preference.
   */
  defaultSeries?: string | null;
}

/** The default series when mainline docs are indexed: every versioned tree is then an older series. */
export const MAINLINE_SERIES = 'mainline';

/** The Rust items of one kernel tree given by `kernelTrees`, read from its rust/kernel and rust/macros. */
export interface TreeDeclarations {
  tree: TreeInfo;
  declarations: SourceDeclaration[];
}

export interface KnowledgeBase {
  trees: TreeInfo[];
  passages: Passage[];
  index: SearchIndex;
  faq: FaqEntry[];
  declarations: TreeDeclarations[];
  defaultSeries: string | null;
  /** Problems an operator should fix (a malformed FAQ entry, a missing tree), already logged. */
  problems: string[];
}

/** Source files whose change must invalidate saved indexes. */
const INDEX_CODE = ['tokenize.ts', 'search-index.ts'];

async function indexKey(passages: Passage[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of INDEX_CODE) hash.update(await readFile(new URL(file, import.meta.url)));
  for (const p of passages) hash.update(JSON.stringify(p));
  return hash.digest('hex').slice(0, 24);
}

export async function ingestSources(sources: KnowledgeSources, log: Logger) {
  const trees: TreeInfo[] = [];
  const passages: Passage[] = [];
  const problems: string[] = [];
  const declarations: TreeDeclarations[] = [];
  let faq: FaqEntry[] = [];
  for (const dir of sources.corpora ?? []) {
    const result = await ingestCorpus(dir);
    trees.push(...result.trees);
    passages.push(...result.passages);
  }
  for (const root of sources.kernelTrees) {
    if (!existsSync(root)) {
      problems.push(`kernel tree ${root} does not exist`);
      continue;
    }
    const result = await ingestKernelTree(root, { wholeDocumentation: sources.wholeDocumentation });
    trees.push(result.tree);
    passages.push(...result.passages);
    declarations.push({ tree: result.tree, declarations: result.declarations });
  }
  for (const tree of sources.markdownTrees) {
    if (!existsSync(tree.path)) {
      problems.push(`Markdown tree ${tree.path} does not exist`);
      continue;
    }
    const result = await ingestMarkdownTree(tree.path, { id: tree.id, baseUrl: tree.baseUrl });
    trees.push(result.tree);
    passages.push(...result.passages);
  }
  if (sources.faqDir && existsSync(sources.faqDir)) {
    const result = await ingestFaq(sources.faqDir);
    trees.push(result.tree);
    passages.push(...result.passages);
    faq = result.entries;
    problems.push(...result.problems);
  }
  for (const problem of problems) log.warn(problem);
  const defaultSeries = sources.defaultSeries ?? (trees.some(isMainlineTree) ? MAINLINE_SERIES : null);
  return { trees, passages, faq, declarations, defaultSeries, problems };
}

export async function loadKnowledgeBase(
  sources: KnowledgeSources,
  options: { cacheDir: string; name: string; log: Logger; onStatus?: (text: string) => void },
): Promise<KnowledgeBase> {
  const { cacheDir, name, log, onStatus } = options;
  const started = Date.now();
  const ingested = await ingestSources(sources, log);
  const key = await indexKey(ingested.passages);
  // One folder per profile (the bot, the evaluation…), so they don't evict each other's index.
  const dir = join(cacheDir, 'index', name);
  const file = join(dir, `${key}.idx`);
  let index: SearchIndex | undefined;
  if (existsSync(file)) {
    try {
      index = SearchIndex.load(await readFile(file));
      log.info(
        { file, passages: ingested.passages.length, ms: Date.now() - started },
        'knowledge index loaded',
      );
    } catch (error) {
      log.warn({ err: error, file }, 'saved knowledge index unreadable; rebuilding');
    }
  }
  if (!index) {
    onStatus?.(`building the knowledge index from ${ingested.passages.length} passages (first run)…`);
    index = SearchIndex.build(ingested.passages);
    await mkdir(dir, { recursive: true });
    const staging = `${file}.${process.pid}.tmp`;
    await writeFile(staging, index.serialize());
    await rename(staging, file);
    // Older indexes are for sources or code that no longer exist.
    for (const old of await readdir(dir)) if (old !== `${key}.idx`) await rm(join(dir, old), { force: true });
    log.info({ file, passages: ingested.passages.length, ms: Date.now() - started }, 'knowledge index built');
  }
  return { ...ingested, index };
}

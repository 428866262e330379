/** A folder of trees side by side (kernel trees and Markdown trees), told apart by what they contain. */
import { readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Passage, TreeInfo } from '../passage.ts';
import { listFiles } from './files.ts';
import { ingestKernelTree, kernelTreeId, looksLikeKernelTree, readKernelVersion } from './kernel-tree.ts';
import { ingestMarkdownTree, isMarkdownPage } from './markdown.ts';

export interface CorpusOptions {
  wholeDocumentation?: boolean;
}

export interface IngestedCorpus {
  trees: TreeInfo[];
  passages: Passage[];
}

export async function ingestCorpus(dir: string, options: CorpusOptions = {}): Promise<IngestedCorpus> {
  const entries = await readdir(resolve(dir), { withFileTypes: true });
  const folders = entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => join(resolve(dir), entry.name))
    .sort();
  const result: IngestedCorpus = { trees: [], passages: [] };
  const usedIds = new Set<string>();
  for (const folder of folders) {
    let ingested: { tree: TreeInfo; passages: Passage[] } | null = null;
    if (await looksLikeKernelTree(folder)) {
      // Two unversioned kernel trees would share `linux-mainline`; the folder name tells them apart.
      const id = kernelTreeId(await readKernelVersion(folder));
      ingested = await ingestKernelTree(folder, {
        wholeDocumentation: options.wholeDocumentation ?? false,
        id: usedIds.has(id) ? `${id}-${basename(folder)}` : id,
      });
    } else if ((await listFiles(folder, '', isMarkdownPage)).length > 0) {
      ingested = await ingestMarkdownTree(folder);
    }
    if (!ingested) continue;
    usedIds.add(ingested.tree.id);
    result.trees.push(ingested.tree);
    result.passages.push(...ingested.passages);
  }
  return result;
}

/** A tree of Markdown pages (a site checkout, a README) → 'doc' passages. */
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Passage, TreeInfo } from '../passage.ts';
import { listFiles } from './files.ts';
import { markdownUrl } from './links.ts';
import { parseMarkdown } from './markdown-syntax.ts';
import { createIdAllocator, type IngestedTree, sectionPassages } from './sections.ts';

export interface MarkdownTreeOptions {
  /** Tree id instead of the folder name. */
  id?: string | undefined;
  /** Where the rendered pages live, for trees whose site is not known by folder name. */
  baseUrl?: string | undefined;
}

export async function ingestMarkdownTree(
  root: string,
  options: MarkdownTreeOptions = {},
): Promise<IngestedTree> {
  const absoluteRoot = resolve(root);
  const tree: TreeInfo = {
    id: options.id ?? basename(absoluteRoot),
    root: absoluteRoot,
    kernelVersion: null,
  };
  const nextId = createIdAllocator();
  const paths = await listFiles(absoluteRoot, '', isMarkdownPage);
  const passages: Passage[] = [];
  for (const path of paths) {
    const text = await readFile(join(absoluteRoot, path), 'utf8');
    if (isLinkList(text)) continue;
    const { sections } = parseMarkdown(text, pageName(path));
    passages.push(
      ...sectionPassages({ tree, path, nextId }, sections, 'doc', (anchor) =>
        markdownUrl(absoluteRoot, path, anchor, options.baseUrl),
      ),
    );
  }
  return { tree, passages };
}

export function isMarkdownPage(path: string): boolean {
  return /\.md$/i.test(path) && !/(^|\/)(license|copying)(\.md)?$/i.test(path);
}

/** A page of only headings and links (an mdBook SUMMARY.md) has nothing to answer with. */
function isLinkList(text: string): boolean {
  const link = /\[[^\]]*\]\([^)]*\)/g;
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !/^[-*_\s]{3,}$/.test(line));
  return (
    lines.length > 0 &&
    lines.every((line) => {
      const rest = line.replace(link, '').replace(/^([-*+]|\d+\.)\s*/, '');
      return line !== rest && rest.split(/\s+/).filter(Boolean).length <= 2;
    })
  );
}

/** `src/Out-of-tree-modules.md` → `Out of tree modules`, the title of a page without an H1. */
function pageName(path: string): string {
  return basename(path).replace(/\.md$/i, '').replace(/[-_]+/g, ' ');
}

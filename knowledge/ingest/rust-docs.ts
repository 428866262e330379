/** rust/kernel and rust/macros doc comments as 'rust-doc' passages. */
import type { Passage } from '../passage.ts';
import { kernelSourceUrl } from './links.ts';
import { markdownBlocks } from './markdown-syntax.ts';
import type { RustPublicItem, RustSourceDocs } from './rust-source.ts';
import { type Chunk, chunkBlocks, type FileOrigin, passagesFromChunks } from './sections.ts';

/** rust/kernel/sync/arc.rs → ['kernel', 'sync', 'arc']; lib.rs and mod.rs stand for their folder. */
export function rustModulePath(path: string): string[] {
  const parts = path
    .replace(/^rust\//, '')
    .replace(/\.rs$/, '')
    .split('/');
  const last = parts[parts.length - 1];
  return parts.length > 1 && (last === 'lib' || last === 'mod') ? parts.slice(0, -1) : parts;
}

/**
 * One passage for the module docs (`//!`), one listing the file's public items (so "is there a net
 * module?" finds lib.rs), and one per documented item (`///`) with its signature first in `code`.
 */
export function rustDocPassages(origin: FileOrigin, parsed: RustSourceDocs): Passage[] {
  const modulePath = rustModulePath(origin.path);
  const url = (line: number) => kernelSourceUrl(origin.tree.kernelVersion, origin.path, line);
  const head = (key: string, sectionPath: string[]) => ({
    sectionPath,
    anchor: null,
    kind: 'rust-doc' as const,
    key,
    url,
  });
  const passages: Passage[] = [];

  const firstDocLine = parsed.moduleDocs[0]?.no;
  if (firstDocLine !== undefined) {
    const chunks = chunkBlocks(markdownBlocks(parsed.moduleDocs), firstDocLine);
    passages.push(...passagesFromChunks(origin, head('module', modulePath), chunks));
  }
  const listing = publicItemsChunk(modulePath, origin.path, parsed.publicItems);
  if (listing) passages.push(...passagesFromChunks(origin, head('public-items', modulePath), [listing]));

  for (const item of parsed.items) {
    const chunks = chunkBlocks(markdownBlocks(item.docs), item.lines[0]);
    const first = chunks[0] ?? { text: '', code: [], lines: item.lines };
    first.code.unshift(item.signature);
    const all = chunks.length > 0 ? chunks : [first];
    const last = all[all.length - 1]!;
    last.lines = [last.lines[0], item.lines[1]];
    passages.push(...passagesFromChunks(origin, head(item.name, [...modulePath, item.name]), all));
  }
  return passages;
}

function publicItemsChunk(modulePath: string[], path: string, items: RustPublicItem[]): Chunk | null {
  const first = items[0];
  if (!first) return null;
  const lines = items.map((item) => `- ${item.description}${item.cfg ? ` (only with ${item.cfg})` : ''}`);
  return {
    text: `Public items of the \`${modulePath.join('::')}\` module (${path}):\n${lines.join('\n')}`,
    code: [],
    lines: [first.line, items[items.length - 1]!.line],
  };
}

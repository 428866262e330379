/**
 * The curated FAQ: `<slug>.md` files with YAML front matter (title, aliases, links) and a Markdown body.
 * A malformed entry is skipped with a problem the operator can act on; it never stops the rest.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { FaqEntry } from '../answer-types.ts';
import type { Passage, TreeInfo } from '../passage.ts';
import { exists, listFiles } from './files.ts';
import { markdownBlocks } from './markdown-syntax.ts';
import {
  createIdAllocator,
  type FileOrigin,
  type IngestedTree,
  passagesFromChunks,
  toLines,
} from './sections.ts';

export interface IngestedFaq extends IngestedTree {
  entries: FaqEntry[];
  /** One readable line per skipped entry: which file and what is wrong with it. */
  problems: string[];
}

type ParsedEntry = { entry: FaqEntry; bodyLine: number } | { problem: string };

export async function ingestFaq(dir: string): Promise<IngestedFaq> {
  const absoluteDir = resolve(dir);
  const tree: TreeInfo = { id: 'faq', root: absoluteDir, kernelVersion: null };
  if (!(await exists(absoluteDir))) {
    return { tree, passages: [], entries: [], problems: [`FAQ folder ${dir} does not exist`] };
  }
  const nextId = createIdAllocator();
  const files = await listFiles(
    absoluteDir,
    '',
    (path) => /^[^/]+\.md$/.test(path) && !/^readme\.md$/i.test(path),
  );
  const result: IngestedFaq = { tree, passages: [], entries: [], problems: [] };
  for (const path of files) {
    const parsed = parseFaqEntry(path.replace(/\.md$/, ''), await readFile(join(absoluteDir, path), 'utf8'));
    if ('problem' in parsed) {
      result.problems.push(`${join(dir, path)}: ${parsed.problem}; entry skipped`);
      continue;
    }
    result.entries.push(parsed.entry);
    result.passages.push(faqPassage({ tree, path, nextId }, parsed.entry, parsed.bodyLine));
  }
  return result;
}

/** Checks one file; the problem text says what to fix. */
function parseFaqEntry(slug: string, text: string): ParsedEntry {
  const lines = text.split(/\r?\n/);
  const close = lines.findIndex((line, index) => index > 0 && line.trim() === '---');
  if (lines[0]?.trim() !== '---' || close < 0) {
    return { problem: 'no front matter (a YAML block between --- lines at the top)' };
  }
  let data: unknown;
  try {
    data = parseYaml(lines.slice(1, close).join('\n'));
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    return { problem: `front matter is not valid YAML (${reason})` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { problem: 'front matter must be a mapping with title, aliases and links' };
  }
  const fields = data as Record<string, unknown>;
  const title = typeof fields.title === 'string' ? fields.title.trim() : '';
  if (title === '') return { problem: 'no title' };
  const links = stringList(fields.links);
  if (!links || links.length === 0 || !links.every((link) => /^https?:\/\/\S+$/.test(link))) {
    return { problem: 'links must list at least one http(s) URL' };
  }
  const aliases = fields.aliases === undefined ? [] : stringList(fields.aliases);
  if (!aliases) return { problem: 'aliases must be a list of strings' };
  const bodyStart = lines.findIndex((line, index) => index > close && line.trim() !== '');
  if (bodyStart < 0) return { problem: 'no body text below the front matter' };
  const body = lines.slice(bodyStart).join('\n').trimEnd();
  return { entry: { slug, title, body, links, aliases }, bodyLine: bodyStart + 1 };
}

function stringList(value: unknown): string[] | null {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return null;
  return value.map((item: string) => item.trim()).filter((item) => item !== '');
}

function faqPassage(origin: FileOrigin, entry: FaqEntry, bodyLine: number): Passage {
  const blocks = markdownBlocks(toLines(entry.body, bodyLine));
  const last = blocks[blocks.length - 1]?.lines[1] ?? bodyLine;
  const chunk = {
    text: blocks.flatMap((block) => (block.kind === 'text' ? [block.value] : [])).join('\n\n'),
    code: blocks.flatMap((block) => (block.kind === 'code' ? [block.value] : [])),
    lines: [bodyLine, last] as [number, number],
  };
  const head = {
    sectionPath: ['FAQ', entry.title],
    anchor: null,
    kind: 'faq' as const,
    key: entry.slug,
    url: () => entry.links[0]!,
  };
  return { ...passagesFromChunks(origin, head, [chunk])[0]!, keywords: entry.aliases };
}

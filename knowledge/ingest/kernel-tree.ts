/** A kernel source tree → Passages: Documentation/, samples/rust, rust/ doc comments, minimum tool versions. */
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { minToolVersionFacts, parseMinToolTable } from '../../jobs/kernel/min-tool-version.ts';
import type { Passage, TreeInfo } from '../passage.ts';
import { exists, listFiles, readOptional } from './files.ts';
import { kernelDocUrl, kernelSourceUrl } from './links.ts';
import { parseRst } from './rst-syntax.ts';
import { rustDocPassages } from './rust-docs.ts';
import { parseRustSource, type RustDeclaration } from './rust-source.ts';
import { kconfigPassages, makefilePassages, sampleSourcePassages } from './samples.ts';
import {
  createIdAllocator,
  type FileOrigin,
  type IngestedTree,
  passagesFromChunks,
  sectionPassages,
} from './sections.ts';

/** A Rust item of the tree's rust/kernel or rust/macros, and the file declaring it. */
export interface SourceDeclaration extends RustDeclaration {
  path: string;
}

export interface IngestedKernelTree extends IngestedTree {
  /** Its Rust items, so that which versions have an API can be read from the sources themselves. */
  declarations: SourceDeclaration[];
}

export interface KernelTreeOptions {
  /** Every .rst under Documentation/, not only the parts newcomers to Rust need. */
  wholeDocumentation?: boolean;
  /** Tree id instead of `linux-<version>` / `linux-mainline`. */
  id?: string;
}

/** The Documentation/ folders indexed by default. */
const DEFAULT_DOC_FOLDERS = ['rust', 'process', 'kbuild', 'dev-tools'];

const TOOL_TABLE = 'scripts/min-tool-version.sh';

export async function ingestKernelTree(
  root: string,
  options: KernelTreeOptions = {},
): Promise<IngestedKernelTree> {
  const absoluteRoot = resolve(root);
  const kernelVersion = await readKernelVersion(absoluteRoot);
  const tree: TreeInfo = {
    id: options.id ?? kernelTreeId(kernelVersion),
    root: absoluteRoot,
    kernelVersion,
  };
  const nextId = createIdAllocator();
  const origin = (path: string): FileOrigin => ({ tree, path, nextId });

  const docFolders = options.wholeDocumentation ? [''] : DEFAULT_DOC_FOLDERS.map((folder) => `${folder}/`);
  const [docs, samples, rustSources] = await Promise.all([
    listFiles(absoluteRoot, 'Documentation', (path) =>
      docFolders.some((folder) => path.startsWith(`Documentation/${folder}`) && path.endsWith('.rst')),
    ),
    listFiles(absoluteRoot, 'samples/rust', (path) =>
      /^samples\/rust\/([^/]+\.rs|Kconfig|Makefile)$/.test(path),
    ),
    listFiles(absoluteRoot, 'rust', (path) => /^rust\/(kernel|macros)\/.*\.rs$/.test(path)),
  ]);
  const read = (paths: string[]) =>
    Promise.all(
      paths.map(async (path) => ({ path, text: await readFile(join(absoluteRoot, path), 'utf8') })),
    );
  const [docTexts, sampleTexts, rustTexts, toolTable] = await Promise.all([
    read(docs),
    read(samples),
    read(rustSources),
    readOptional(join(absoluteRoot, TOOL_TABLE)),
  ]);

  const passages: Passage[] = [];
  for (const { path, text } of docTexts) {
    const { sections } = parseRst(text, basename(path, '.rst'));
    passages.push(
      ...sectionPassages(origin(path), sections, 'doc', (anchor) =>
        kernelDocUrl(kernelVersion, path, anchor),
      ),
    );
  }
  for (const { path, text } of sampleTexts) {
    const name = basename(path);
    const parse =
      name === 'Kconfig' ? kconfigPassages : name === 'Makefile' ? makefilePassages : sampleSourcePassages;
    passages.push(...parse(origin(path), text));
  }
  const declarations: SourceDeclaration[] = [];
  for (const { path, text } of rustTexts) {
    const parsed = parseRustSource(text);
    passages.push(...rustDocPassages(origin(path), parsed));
    for (const declaration of parsed.declarations) declarations.push({ ...declaration, path });
  }
  if (toolTable !== null) passages.push(...toolVersionPassages(origin(TOOL_TABLE), toolTable));
  return { tree, passages, declarations };
}

const MAINLINE_ID = 'linux-mainline';

export function kernelTreeId(kernelVersion: string | null): string {
  return kernelVersion ? `linux-${kernelVersion}` : MAINLINE_ID;
}

/** A kernel tree without a version (a mainline checkout of its docs), under kernelTreeId's name or a folder-suffixed one. */
export function isMainlineTree(tree: TreeInfo): boolean {
  return tree.id === MAINLINE_ID || tree.id.startsWith(`${MAINLINE_ID}-`);
}

/** `6.1.192` from the top-level Makefile's VERSION, PATCHLEVEL, SUBLEVEL and EXTRAVERSION; null without one. */
export async function readKernelVersion(root: string): Promise<string | null> {
  const makefile = await readOptional(join(root, 'Makefile'));
  if (makefile === null) return null;
  const field = (name: string) => new RegExp(`^${name}\\s*=[ \\t]*(\\S*)`, 'm').exec(makefile)?.[1] ?? '';
  const [version, patchlevel, sublevel] = [field('VERSION'), field('PATCHLEVEL'), field('SUBLEVEL')];
  if (!version || !patchlevel) return null;
  return `${version}.${patchlevel}.${sublevel || '0'}${field('EXTRAVERSION')}`;
}

/** A folder is a kernel tree when it has any of the parts this ingester reads. */
export async function looksLikeKernelTree(dir: string): Promise<boolean> {
  const markers = ['Documentation', 'rust', 'samples', TOOL_TABLE];
  const found = await Promise.all(markers.map((marker) => exists(join(dir, marker))));
  return found.includes(true);
}

function toolVersionPassages(origin: FileOrigin, script: string): Passage[] {
  const table = parseMinToolTable(script);
  if (!table.lines || table.tools.length === 0) return [];
  const [first, last] = table.lines;
  const version = origin.tree.kernelVersion;
  return passagesFromChunks(
    origin,
    {
      sectionPath: ['Minimum tool versions'],
      anchor: null,
      kind: 'tool-versions',
      key: 'min-tool-versions',
      url: (line) => kernelSourceUrl(version, origin.path, line),
    },
    [
      {
        text: minToolVersionFacts(table.tools, version),
        code: [
          script
            .split('\n')
            .slice(first - 1, last)
            .join('\n'),
        ],
        lines: table.lines,
      },
    ],
  );
}

/** samples/rust: each sample module, and the Kconfig and Makefile that build them, as 'sample' passages. */
import { basename } from 'node:path';
import type { Passage } from '../passage.ts';
import { kernelSourceUrl } from './links.ts';
import { markdownBlocks } from './markdown-syntax.ts';
import { parseRustSource } from './rust-source.ts';
import { type Chunk, type FileOrigin, joinParagraph, passagesFromChunks } from './sections.ts';

const SAMPLES = 'Rust samples';

function samplePassage(origin: FileOrigin, sectionPath: string[], key: string, chunk: Chunk): Passage[] {
  const url = (line: number) => kernelSourceUrl(origin.tree.kernelVersion, origin.path, line);
  return passagesFromChunks(origin, { sectionPath, anchor: null, kind: 'sample', key, url }, [chunk]);
}

/** Everything after the SPDX line, which says nothing about the code. */
function withoutSpdx(source: string): string {
  return source.replace(/^(?:\/\/|#)\s*SPDX-License-Identifier:.*\n/, '').trim();
}

/** A sample module: its `//!` docs and what its `module!` declares as text, the whole file as code. */
export function sampleSourcePassages(origin: FileOrigin, source: string): Passage[] {
  const name = basename(origin.path);
  const docs = markdownBlocks(parseRustSource(source).moduleDocs).filter((block) => block.kind === 'text');
  const declaration = /\bmodule!\s*\{([\s\S]*?)\n\s*\}/.exec(source)?.[1] ?? '';
  const moduleName = /\bname:\s*b?"([^"]+)"/.exec(declaration)?.[1];
  const description = /\bdescription:\s*b?"([^"]+)"/.exec(declaration)?.[1];
  const text = docs.map((block) => block.value);
  if (moduleName) {
    text.push(
      `${name} builds the kernel module \`${moduleName}\`${description ? ` ("${description}")` : ''}.`,
    );
  }
  text.push(...lifecycle(name, source));
  const lineCount = source.split('\n').length;
  const chunk = {
    text: text.join('\n\n'),
    code: [withoutSpdx(source)],
    lines: [1, lineCount] as [number, number],
  };
  return samplePassage(origin, [SAMPLES, name], name, chunk);
}

/** `impl … Module for T`, `impl InPlaceModule for T`, `impl Drop for T`, at a line start. */
const MODULE_IMPL = /^impl(?:<[^>\n]*>)?\s+(?:kernel::)?(?:InPlace)?Module\s+for\b/m;
const DROP_IMPL = /^impl(?:<[^>\n]*>)?\s+Drop\s+for\b/m;

/**
 * What the sample shows about a module's life, read from its code, in the words a newcomer asks with
 * ("where does module_exit go?"): the docs say it only in code.
 */
function lifecycle(name: string, source: string): string[] {
  const facts: string[] = [];
  if (MODULE_IMPL.test(source))
    facts.push(`${name} is a loadable module: its \`init\` runs when the module is loaded (module_init).`);
  if (DROP_IMPL.test(source))
    facts.push(
      `Its \`Drop\` implementation runs when the module is unloaded: the exit function (module_exit).`,
    );
  return facts;
}

/** One passage per `config` entry: its symbol, prompt, dependencies and help text. */
export function kconfigPassages(origin: FileOrigin, source: string): Passage[] {
  const lines = source.split(/\r?\n/);
  const passages: Passage[] = [];
  const conditions: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const condition = /^if\s+(.+)$/.exec(line);
    if (condition) conditions.push(condition[1]!.trim());
    if (/^endif\b/.test(line)) conditions.pop();
    const entry = /^(?:menu)?config\s+(\w+)/.exec(line);
    if (!entry) continue;
    let end = i + 1;
    while (end < lines.length && (lines[end]!.trim() === '' || /^\s/.test(lines[end]!))) end++;
    const body = lines.slice(i, end);
    const symbol = `CONFIG_${entry[1]}`;
    passages.push(
      ...samplePassage(origin, [SAMPLES, 'Kconfig', symbol], symbol, {
        text: describeKconfigEntry(symbol, body, conditions),
        code: [body.join('\n').trimEnd()],
        lines: [i + 1, i + body.join('\n').trimEnd().split('\n').length],
      }),
    );
    i = end - 1;
  }
  return passages;
}

function describeKconfigEntry(symbol: string, body: string[], conditions: string[]): string {
  const typed = body.map((line) => /^\s+(bool|tristate|string|int|hex)\s+"([^"]*)"/.exec(line)).find(Boolean);
  const depends = [
    ...conditions,
    ...body.flatMap((line) => /^\s+depends on\s+(.+)$/.exec(line)?.[1]?.trim() ?? []),
  ];
  const helpStart = body.findIndex((line) => /^\s+(-*help-*)\s*$/.test(line));
  const help = helpStart < 0 ? [] : body.slice(helpStart + 1);
  const paragraphs = help
    .join('\n')
    .split(/\n\s*\n/)
    .map((paragraph) => joinParagraph(paragraph.split('\n')))
    .filter((paragraph) => paragraph !== '');
  const kind = typed ? `"${typed[2]}" (${typed[1]})` : 'an option';
  const needs = depends.length > 0 ? `, depends on ${depends.join(' && ')}` : '';
  return [`${symbol} is ${kind} in samples/rust/Kconfig${needs}.`, ...paragraphs].join('\n\n');
}

/** The Makefile as text (which option builds which object) and as code. */
export function makefilePassages(origin: FileOrigin, source: string): Passage[] {
  const statements = source.replace(/\\\n/g, ' ').split('\n');
  const facts = statements.flatMap((statement) => {
    const built = /^obj-(?:\$\((CONFIG_\w+)\)|(y|m))\s*[+:]?=\s*(.+)$/.exec(statement);
    if (built) return `${built[1] ?? `obj-${built[2]}`} builds ${words(built[3]!)}`;
    const subdir = /^subdir-\$\((CONFIG_\w+)\)\s*[+:]?=\s*(.+)$/.exec(statement);
    if (subdir) return `${subdir[1]} also builds the ${words(subdir[2]!)} folder`;
    // `<module>-y := a.o b.o` links a module from several objects; `ccflags-y` and the like are settings.
    const composite =
      /^(?!\w*flags-|hostprogs-|always-|targets-|userprogs-)([\w-]+)-(?:y|objs)\s*[+:]?=\s*(.+)$/.exec(
        statement,
      );
    if (composite) return `${composite[1]}.o is linked from ${words(composite[2]!)}`;
    return [];
  });
  const text = [
    'The Makefile of samples/rust (Kbuild) lists the object each sample option builds.',
    facts.length > 0 ? `${facts.join('; ')}.` : '',
  ].join(' ');
  const lineCount = source.trimEnd().split('\n').length;
  return samplePassage(origin, [SAMPLES, 'Makefile'], 'Makefile', {
    text: text.trim(),
    code: [withoutSpdx(source)],
    lines: [1, lineCount],
  });
}

function words(list: string): string {
  return list.replace(/#.*$/, '').trim().split(/\s+/).join(', ');
}

/**
 * The layout is the architecture: config/ is the ground floor, jobs/ (the build-job system) stands on
 * it, knowledge/ on both, bot/ (the chat process) on everything. Inside bot/, the neutral chat model is
 * at the bottom, then following jobs and the digest, the commands, the dispatcher and router, the
 * adapters (which know nothing of each other), and main.ts, which only composes. No file imports from a
 * layer above its own, and no import circle exists anywhere in the source.
 *
 * Our own check rather than dependency-cruiser or madge: both parse TypeScript through the compiler's
 * JavaScript API, which TypeScript 7 (the native compiler this project type-checks with) no longer
 * ships, so they find no modules at all here. Our imports are plain ESM with explicit `.ts` paths, so
 * reading the import lines and resolving them is exact.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { REPO } from './helpers/paths.ts';

/** Lowest first: a file may import from its own layer and the ones before it. */
const LAYERS = ['config', 'jobs', 'knowledge', 'bot'];

/** Static `import … from '…'`, `export … from '…'`, bare `import '…'` and dynamic `import('…')`. */
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"\n]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const layer of LAYERS) {
    for (const file of sourceFiles(join(REPO, layer))) {
      const text = readFileSync(file, 'utf8');
      const targets = [...text.matchAll(IMPORT)].map((match) => resolve(dirname(file), match[1]!));
      graph.set(
        relative(REPO, file),
        targets.map((target) => relative(REPO, target)),
      );
    }
  }
  return graph;
}

const layerOf = (path: string) => LAYERS.indexOf(path.split('/')[0]!);

/** bot/'s floors, lowest first; folders on one floor do not import each other (a folder's subfolders are part of it). */
const BOT_FLOORS = [
  ['bot/chat'],
  ['bot/job-follow', 'bot/digest'],
  ['bot/commands'],
  ['bot/dispatch'],
  ['bot/adapters/terminal', 'bot/adapters/matrix', 'bot/adapters/discord', 'bot/adapters/zulip'],
];
/** The listed folder a file belongs to (its own, or the one its folder is inside); null: bot/ itself. */
const botPartOf = (path: string) =>
  BOT_FLOORS.flat().find((folder) => dirname(path) === folder || dirname(path).startsWith(`${folder}/`)) ??
  null;
const botFloorOf = (path: string) => {
  const part = botPartOf(path);
  // bot/main.ts and bot/ops-server.ts: the top.
  return part === null ? BOT_FLOORS.length : BOT_FLOORS.findIndex((folders) => folders.includes(part));
};

test('no file imports from a layer above its own', () => {
  const upward: string[] = [];
  for (const [file, targets] of importGraph()) {
    for (const target of targets) {
      if (layerOf(target) > layerOf(file)) upward.push(`${file} -> ${target}`);
    }
  }
  assert.deepEqual(upward, []);
});

test('inside bot/, no folder imports from its own floor or above; the router and commands know no platform', () => {
  const upward: string[] = [];
  for (const [file, targets] of importGraph()) {
    if (!file.startsWith('bot/')) continue;
    for (const target of targets) {
      if (!target.startsWith('bot/') || dirname(target) === dirname(file)) continue;
      if (botPartOf(target) !== null && botPartOf(target) === botPartOf(file)) continue; // within one part
      if (botFloorOf(target) >= botFloorOf(file)) upward.push(`${file} -> ${target}`);
    }
  }
  assert.deepEqual(upward, []);
});

test('every import names a file that exists', () => {
  const graph = importGraph();
  const dangling = [...graph].flatMap(([file, targets]) =>
    targets.filter((target) => !graph.has(target)).map((target) => `${file} -> ${target}`),
  );
  assert.deepEqual(dangling, []);
});

/** Tarjan's strongly connected components: any component of more than one file is a circle. */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(node, Math.min(low.get(node)!, index.get(target)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

test('no import circles', () => {
  assert.deepEqual(circles(importGraph()), []);
});

test('every source folder says what lives there', () => {
  const folders = new Set(
    [...importGraph().keys()].map((file) => dirname(file)).filter((dir) => dir !== '.'),
  );
  const silent = [...folders].filter((dir) => {
    try {
      return readFileSync(join(REPO, dir, 'README.md'), 'utf8').trim() === '';
    } catch {
      return true;
    }
  });
  assert.deepEqual(silent.sort(), []);
});

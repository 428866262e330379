/**
 * The project's prepared kernel trees for tests that build real modules, one per configured series (6.12,
 * the default, and 6.1): fetched and prepared with the default config's cache dir (so `npm run provision`, CI and
 * every test file share them), paid for once, then instant.
 */
import { copyFile, mkdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../../config/logger.ts';
import type { Config } from '../../config/schema.ts';
import { kernelPlan } from '../../jobs/kernel/kernel-source.ts';
import type { PreparedTree } from '../../jobs/kernel/kernel-tree.ts';
import { provisionSeries } from '../../jobs/kernel/trees.ts';

const prepared = new Map<string, Promise<PreparedTree>>();

export function defaultConfig(): Config {
  const loaded = loadConfig();
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  return loaded.config;
}

async function prepare(series: string): Promise<PreparedTree> {
  const config = defaultConfig();
  const log = createLogger({ logLevel: 'silent', logFormat: 'json' });
  const plan = kernelPlan(config.kernel, config.cacheDir);
  if (!plan.ok) throw new Error(plan.failure.userText);
  const chosen = plan.value.series.find((candidate) => candidate.series === series);
  if (!chosen) throw new Error(`no series ${series} in kernel.trees`);
  const result = await provisionSeries(chosen, {
    cacheDir: config.cacheDir,
    log,
    onProgress: (text) => process.stderr.write(`[prepared-tree] ${text}\n`),
  });
  if (!result.ok) throw new Error(result.failure.userText);
  return result.value.tree;
}

/**
 * The prepared tree of a series: 6.1 unless named, the series most tests' modules are written for (the
 * configured default, 6.12, is named by the tests about it).
 */
export function preparedTree(series = '6.1'): Promise<PreparedTree> {
  let tree = prepared.get(series);
  if (!tree) {
    tree = prepare(series);
    prepared.set(series, tree);
  }
  return tree;
}

/**
 * Puts the prepared tree into another cache dir under a given key, as `npm run provision` would leave a
 * tree of that key: its stamp, and its build dir (linked, not copied: the same real, buildable tree).
 * Tests give a tree another identity this way without building a second kernel.
 */
export async function installTree(tree: PreparedTree, cacheDir: string, key: string): Promise<string> {
  const dir = join(cacheDir, 'trees', key);
  await mkdir(dir, { recursive: true });
  await copyFile(join(dirname(tree.buildDir), 'stamp.json'), join(dir, 'stamp.json'));
  await symlink(tree.buildDir, join(dir, 'build'));
  return dir;
}

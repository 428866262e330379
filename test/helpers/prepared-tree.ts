/**
 * The project's prepared kernel tree for tests that build real modules: prepared with the default config's
 * cache dir (so `npm run provision`, CI and every test file share it), paid for once, then instant.
 */
import { copyFile, mkdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../../config/logger.ts';
import type { Config } from '../../config/schema.ts';
import { findKernelSource } from '../../jobs/kernel/kernel-source.ts';
import { type PreparedTree, prepareTree } from '../../jobs/kernel/kernel-tree.ts';

let prepared: Promise<PreparedTree> | null = null;

export function defaultConfig(): Config {
  const loaded = loadConfig();
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  return loaded.config;
}

async function prepare(): Promise<PreparedTree> {
  const config = defaultConfig();
  const log = createLogger({ logLevel: 'silent', logFormat: 'json' });
  const source = await findKernelSource({ src: config.kernel.src, cacheDir: config.cacheDir, log });
  if (!source.ok) throw new Error(source.userMessage);
  const result = await prepareTree({
    source: source.path,
    cacheDir: config.cacheDir,
    log,
    onProgress: (text) => process.stderr.write(`[prepared-tree] ${text}\n`),
  });
  if (!result.ok) throw new Error(result.userMessage);
  return result.tree;
}

export function preparedTree(): Promise<PreparedTree> {
  prepared ??= prepare();
  return prepared;
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

/**
 * The project's prepared kernel tree for tests that build real modules: prepared with the default config's
 * cache dir (so `npm run provision`, CI and every test file share it), paid for once, then instant.
 */
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../../config/logger.ts';
import type { Config } from '../../config/schema.ts';
import { findKernelSource } from '../../jobs/kernel-source.ts';
import { type PreparedTree, prepareTree } from '../../jobs/kernel-tree.ts';

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

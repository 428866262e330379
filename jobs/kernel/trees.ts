/**
 * The kernel trees a worker builds against: the configured sources are prepared in the background when
 * the worker starts, and a job that needs a tree still being prepared waits for it (and says so).
 */
import type { Logger } from '../../config/logger.ts';
import { findPreparedTree, listPreparedTrees, type PreparedTree, prepareTree } from './kernel-tree.ts';
import type { TreeKeys } from './tree-registry.ts';

export type TreeLookup =
  | { ok: true; tree: PreparedTree }
  /** `ourFault`: no tree at all (worth a retry, maybe on another worker) rather than an unknown series. */
  | { ok: false; userMessage: string; ourFault: boolean };

export class KernelTrees {
  readonly #cacheDir: string;
  readonly #log: Logger;
  readonly #preparing = new Set<Promise<unknown>>();
  readonly #onReady: (() => void)[] = [];

  constructor(cacheDir: string, log: Logger) {
    this.#cacheDir = cacheDir;
    this.#log = log;
  }

  /** Starts preparing a source tree (cached trees are found at once); progress goes to the log. */
  prepare(source: string): void {
    const preparation = prepareTree({ source, cacheDir: this.#cacheDir, log: this.#log })
      .then((result) => {
        if (result.ok) {
          this.#log.info({ key: result.tree.key, cached: result.cached }, 'kernel tree ready');
          for (const listener of this.#onReady) listener();
        } else this.#log.error({ source }, result.userMessage);
      })
      .catch((error: unknown) => this.#log.error({ err: error, source }, 'kernel tree preparation crashed'))
      .finally(() => this.#preparing.delete(preparation));
    this.#preparing.add(preparation);
  }

  /** Called whenever a preparation started by prepare() has a tree ready. */
  onReady(listener: () => void): void {
    this.#onReady.push(listener);
  }

  /** The key of the tree each label resolves to now, as get() would resolve it: "default" and each series. */
  async keys(): Promise<TreeKeys> {
    const keys: TreeKeys = {};
    const fallback = await findPreparedTree(this.#cacheDir, null);
    if (fallback) keys.default = fallback.key;
    for (const series of new Set((await listPreparedTrees(this.#cacheDir)).map((t) => t.series))) {
      const tree = await findPreparedTree(this.#cacheDir, series);
      if (tree) keys[series] = tree.key;
    }
    return keys;
  }

  /** Settles when no preparation is running. */
  async settled(): Promise<void> {
    while (this.#preparing.size > 0) await Promise.allSettled([...this.#preparing]);
  }

  /** The tree for a series ("6.1") or the default one; waits (calling `onWait` once) while trees are prepared. */
  async get(series: string | null, onWait: () => void): Promise<TreeLookup> {
    let tree = await findPreparedTree(this.#cacheDir, series);
    if (!tree && this.#preparing.size > 0) {
      onWait();
      await this.settled();
      tree = await findPreparedTree(this.#cacheDir, series);
    }
    if (tree) return { ok: true, tree };
    const available = [...new Set((await listPreparedTrees(this.#cacheDir)).map((t) => t.series))];
    if (series && available.length > 0) {
      return {
        ok: false,
        userMessage: `I have no Linux ${series} tree; I can build against ${available.join(', ')} (--kernel ${available[0]}).`,
        ourFault: false,
      };
    }
    return {
      ok: false,
      userMessage: 'No kernel tree is prepared on this worker yet; its operator runs `npm run provision`.',
      ourFault: true,
    };
  }
}

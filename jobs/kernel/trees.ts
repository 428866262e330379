/**
 * The kernel trees a worker builds against: one per configured series (kernel.trees). When the worker
 * starts, each series' toolchain and source are fetched and its tree prepared in the background, in two
 * rounds: first up to modules_prepare, so `!build` works within minutes of a fresh cache, then bzImage
 * for boots. A job that needs a tree still being prepared waits for it and says so; a `--boot` asked for
 * before the image exists is told it comes later.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../config/logger.ts';
import type { Result } from '../../config/result.ts';
import { ensureKernelSource, type KernelPlan, type SeriesPlan } from './kernel-source.ts';
import { findPreparedTree, type PreparedTree, type PrepareResult, prepareTree } from './kernel-tree.ts';
import { fetchToolchain } from './toolchain.ts';
import type { TreeKeys } from './tree-registry.ts';

export type TreeLookup =
  /** `bootLater`: the tree has no bzImage yet but one is being built. */
  | { ok: true; tree: PreparedTree; bootLater: boolean }
  /** `ourFault`: no tree at all (worth a retry, maybe on another worker) rather than an unknown series. */
  | { ok: false; userMessage: string; ourFault: boolean };

/** Fetches a series' toolchain and source (at once, both take a while on a fresh cache). */
export async function fetchSeries(
  plan: SeriesPlan,
  options: { cacheDir: string; log: Logger; onProgress?: (text: string) => void },
): Promise<Result<string>> {
  const wait = (what: string) => () =>
    options.onProgress?.(`another process is fetching ${what}; waiting for it`);
  const missing = [join(plan.sourceDir, 'Makefile'), ...plan.toolchain.prefixes].some(
    (path) => !existsSync(path),
  );
  if (missing) {
    options.onProgress?.(
      `Linux ${plan.series}: fetching toolchain "${plan.toolchain.name}" and the source (once)`,
    );
  }
  const [toolchain, source] = await Promise.all([
    fetchToolchain(plan.toolchainSpec, options.cacheDir, wait(`toolchain ${plan.toolchain.name}`)),
    ensureKernelSource(plan, { cacheDir: options.cacheDir, log: options.log, fetch: true }),
  ]);
  if (!toolchain.ok) {
    options.log.error(
      { series: plan.series, ...(toolchain.failure.detail as object) },
      toolchain.failure.logText,
    );
    return toolchain;
  }
  return source;
}

/** Fetches a series and prepares its tree: what `npm run provision`, the bench and the tests share. */
export async function provisionSeries(
  plan: SeriesPlan,
  options: { cacheDir: string; log: Logger; boot?: boolean; onProgress?: (text: string) => void },
): Promise<PrepareResult> {
  const source = await fetchSeries(plan, options);
  if (!source.ok) return source;
  return prepareTree({
    ...options,
    source: source.value,
    toolchain: plan.toolchain,
    minimums: plan.toolchainSpec,
  });
}

export class KernelTrees {
  readonly #plan: KernelPlan;
  readonly #cacheDir: string;
  readonly #log: Logger;
  readonly #preparing = new Set<Promise<unknown>>();
  readonly #onReady: (() => void)[] = [];
  /** Resolved (and replaced) whenever a tree becomes ready, for get() waiting on one. */
  #ready = Promise.withResolvers<void>();

  constructor(plan: KernelPlan, cacheDir: string, log: Logger) {
    this.#plan = plan;
    this.#cacheDir = cacheDir;
    this.#log = log;
  }

  /** The series served, the default first. */
  get series(): string[] {
    return this.#plan.series.map((plan) => plan.series);
  }

  /**
   * Starts fetching and preparing every configured series (cached ones are found at once): build-only
   * first, then with bzImage; progress goes to the log.
   */
  prepareAll(): void {
    this.#track(this.#prepareInTurn());
  }

  /**
   * One preparation at a time (each make uses every core): every series buildable first, the default
   * first, so `!build` works as early as it can; then their kernel images for boots. A series that
   * failed is not tried again for its image.
   */
  async #prepareInTurn(): Promise<void> {
    const failed = new Set<string>();
    for (const boot of [false, true]) {
      for (const plan of this.#plan.series) {
        if (failed.has(plan.series)) continue;
        const result = await provisionSeries(plan, { cacheDir: this.#cacheDir, log: this.#log, boot });
        if (!result.ok) {
          failed.add(plan.series);
          this.#log.error(
            { series: plan.series, ...(result.failure.detail as object) },
            result.failure.logText,
          );
          continue;
        }
        const { tree, cached } = result.value;
        this.#log.info({ series: plan.series, key: tree.key, cached, boot }, 'kernel tree ready');
        this.#ready.resolve();
        this.#ready = Promise.withResolvers<void>();
        for (const listener of this.#onReady) listener();
      }
    }
  }

  #track(preparation: Promise<void>): void {
    const tracked = preparation
      .catch((error: unknown) => this.#log.error({ err: error }, 'kernel tree preparation crashed'))
      .finally(() => this.#preparing.delete(tracked));
    this.#preparing.add(tracked);
  }

  /** Called whenever a tree (build-only or bootable) becomes ready. */
  onReady(listener: () => void): void {
    this.#onReady.push(listener);
  }

  #find(plan: SeriesPlan): Promise<PreparedTree | null> {
    return findPreparedTree(this.#cacheDir, plan);
  }

  /** The key of the tree each label resolves to now, as get() would resolve it: "default" and each series. */
  async keys(): Promise<TreeKeys> {
    const keys: TreeKeys = {};
    for (const plan of this.#plan.series) {
      const tree = await this.#find(plan);
      if (!tree) continue;
      keys[plan.series] = tree.key;
      if (plan.series === this.#plan.defaultSeries) keys.default = tree.key;
    }
    return keys;
  }

  /** The prepared trees of the configured series (the default first), for other series' API look-ups. */
  async prepared(): Promise<PreparedTree[]> {
    const trees = await Promise.all(this.#plan.series.map((plan) => this.#find(plan)));
    return trees.filter((tree) => tree !== null);
  }

  /** Settles when no preparation is running. */
  async settled(): Promise<void> {
    while (this.#preparing.size > 0) await Promise.allSettled([...this.#preparing]);
  }

  /** Whether trees are still being fetched or prepared (a boot image may come later). */
  get preparing(): boolean {
    return this.#preparing.size > 0;
  }

  /**
   * The tree for a series ("6.1"), or the default series' when null; waits (calling `onWait` once) while
   * a tree that is not there yet is prepared.
   */
  async get(series: string | null, onWait: () => void): Promise<TreeLookup> {
    const wanted = series ?? this.#plan.defaultSeries;
    const plan = this.#plan.series.find((candidate) => candidate.series === wanted);
    if (!plan) {
      return {
        ok: false,
        userMessage: `I have no Linux ${wanted} tree; I can build against ${this.series.join(', ')} (--kernel ${this.series[0]}).`,
        ourFault: false,
      };
    }
    let tree = await this.#find(plan);
    if (!tree && this.preparing) {
      onWait();
      while (!tree && this.preparing) {
        await Promise.race([this.#ready.promise, this.settled()]);
        tree = await this.#find(plan);
      }
    }
    if (tree) return { ok: true, tree, bootLater: tree.bzImage === null && this.preparing };
    return {
      ok: false,
      userMessage: `The Linux ${wanted} tree is not prepared on this worker yet; its operator runs \`npm run provision\`.`,
      ourFault: true,
    };
  }
}

/**
 * Which prepared tree (its cache key: kernel version, config and toolchain hash) a `--kernel` label
 * resolves to right now, as the workers last saw it, kept in Redis beside the queue. The chat side reads
 * it when a request comes in, so an identical request is only "the same" on the same tree: after a tree is
 * re-provisioned, results built on the old one are not handed out again.
 *
 * Workers write it when they start, every few seconds after (a tree provisioned by another process on the
 * machine is seen within that time), when a tree they prepared is ready, and after every job (the tree the
 * job really used). With workers holding different trees for a label, the last writer wins: identical
 * requests then reuse results less often, never wrongly.
 */
import type { Redis } from 'ioredis';

/** `--kernel 6.1` is "6.1"; no --kernel is the default tree. */
export function treeLabel(kernel: string | null): string {
  return kernel ?? 'default';
}

export interface TreeKeys {
  /** label ("default", "6.1") -> tree key ("6.1.192-0cbaa88d4e11") */
  [label: string]: string;
}

export class TreeRegistry {
  readonly #redis: Redis;
  readonly #namespace: string;
  readonly #ttlSeconds: number;

  constructor(redis: Redis, namespace: string, ttlHours: number) {
    this.#redis = redis;
    this.#namespace = namespace;
    this.#ttlSeconds = ttlHours * 3600;
  }

  #key(label: string): string {
    return `${this.#namespace}:tree:${label}`;
  }

  async announce(keys: TreeKeys): Promise<void> {
    const entries = Object.entries(keys);
    if (entries.length === 0) return;
    const pipeline = this.#redis.multi();
    for (const [label, key] of entries) pipeline.set(this.#key(label), key, 'EX', this.#ttlSeconds);
    await pipeline.exec();
  }

  /** The tree key a label resolves to, or null when no worker has said (yet). */
  current(kernel: string | null): Promise<string | null> {
    return this.#redis.get(this.#key(treeLabel(kernel)));
  }
}

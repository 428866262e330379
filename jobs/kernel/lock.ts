/**
 * A lock file for work one machine (or several sharing the cache dir) must do once: preparing a tree,
 * unpacking a kernel source, fetching a toolchain. The embedded worker and the chat side of one process
 * take it too, so it keys on a unique token, not only the pid. A holder that died leaves a lock that the
 * next taker sees is stale and removes.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Result } from '../../config/result.ts';

/** A lock older than this is from a crashed machine, not from a slow build. */
const STALE_LOCK_MS = 2 * 60 * 60 * 1000;

export type LockRelease = () => Promise<void>;

interface LockHolder {
  pid: number;
  host: string;
}

/** Whether the holder named in the lock file still runs (false when unreadable or older than any build). */
async function lockHolderAlive(lockFile: string): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(lockFile, 'utf8'), stat(lockFile)]);
    if (Date.now() - info.mtimeMs > STALE_LOCK_MS) return false;
    const holder = JSON.parse(text) as LockHolder;
    // Another machine sharing the cache: only the age above can tell it crashed.
    if (holder.host === hostname()) process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the pid exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the tree's lock, waiting while a live process holds it. The lock file appears with its content
 * at once (written aside, then hard-linked), so a reader never mistakes a fresh lock for a broken one.
 */
export async function acquireLock(lockFile: string, onWait: () => void): Promise<LockRelease> {
  const mine = `${lockFile}.${process.pid}-${randomUUID()}`;
  await writeFile(mine, JSON.stringify({ pid: process.pid, host: hostname() } satisfies LockHolder));
  let waited = false;
  try {
    for (;;) {
      try {
        await link(mine, lockFile);
        return () => rm(lockFile, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const seen = await readFile(lockFile, 'utf8').catch(() => '');
      if (!(await lockHolderAlive(lockFile))) {
        // Only remove the lock that was judged stale, not one a faster waiter just took.
        if ((await readFile(lockFile, 'utf8').catch(() => '')) === seen) await rm(lockFile, { force: true });
        continue;
      }
      if (!waited) onWait();
      waited = true;
      await sleep(2000);
    }
  } finally {
    await rm(mine, { force: true });
  }
}

/**
 * Makes `target` once: when it is missing, takes `<target>.lock`, looks again (another process may just
 * have made it), and lets `make` fill a staging dir of its own (unique, so two makers never share one),
 * renamed into place only when `make` succeeded. A killed run leaves no half target behind.
 */
export async function makeOnce(
  target: string,
  make: (staging: string) => Promise<Result<void>>,
  onWait: () => void,
): Promise<Result<void>> {
  if (existsSync(target)) return { ok: true, value: undefined };
  await mkdir(dirname(target), { recursive: true });
  const release = await acquireLock(`${target}.lock`, onWait);
  const staging = `${target}.staging-${randomUUID()}`;
  try {
    if (existsSync(target)) return { ok: true, value: undefined };
    await mkdir(staging, { recursive: true });
    const made = await make(staging);
    if (made.ok) await rename(staging, target);
    return made;
  } finally {
    await rm(staging, { recursive: true, force: true });
    await release();
  }
}

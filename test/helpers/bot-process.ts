/**
 * `node bot/main.ts …` as an operator starts it, for end-to-end tests: a work dir with a fixture 6.1
 * kernel tree, the process spawned with nothing of the test's environment but PATH, and its stderr kept.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeKernelTree } from './kernel-fixture.ts';

export interface BotWorkDir {
  dir: string;
  tree: string;
}

export function botWorkDir(name: string): BotWorkDir {
  const dir = mkdtempSync(join(tmpdir(), `rfl-${name}-`));
  const tree = writeKernelTree(join(dir, 'linux'), {
    version: '6.1.50',
    rustc: '1.62.0',
    bindgen: '0.56.0',
    configNote: 'It is near the top of the menu.',
  });
  return { dir, tree };
}

export interface BotProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The exit code once the process has ended. */
  exited: Promise<number | null>;
}

export function spawnBot(work: BotWorkDir, args: string[], env: Record<string, string>): BotProcess {
  const child = spawn(process.execPath, ['bot/main.ts', ...args], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: work.dir,
      KERNEL_SRC: work.tree,
      RFL_CACHE_DIR: join(work.dir, 'cache'),
      RFL_LOG_LEVEL: 'info',
      RFL_OPS_PORT: '0',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

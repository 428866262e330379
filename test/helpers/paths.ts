/** Where the tests find shared data: ../shared beside the clone (as in CI), and the provisioned kernel tree. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const SHARED = resolve(REPO, '../shared');
export const CORPUS = join(SHARED, 'corpus');
export const DEV_QUESTIONS = join(SHARED, 'eval/dev-questions.jsonl');
/** The Debian 6.1 tree as the bot unpacks it (jobs/kernel-source.ts), under the default cache dir. */
export const KERNEL_61 = join(
  process.env.RFL_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'rfl-onboard'),
  'kernels/linux-source-6.1',
);

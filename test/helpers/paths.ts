/** Where the tests find their data: fixtures the project owns, and the provisioned kernel tree. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** A small corpus in the shape of ../shared/corpus (kernel tree, site, module template), our own text. */
export const FIXTURE_CORPUS = join(REPO, 'test/fixtures/corpus');
/** Newcomer questions about FIXTURE_CORPUS, scored like the real evaluation set. */
export const FIXTURE_QUESTIONS = join(REPO, 'test/fixtures/eval/questions.jsonl');
/** The Debian 6.1 tree as the bot unpacks it (jobs/kernel/kernel-source.ts), under the default cache dir. */
export const KERNEL_61 = join(
  process.env.RFL_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'rfl-onboard'),
  'kernels/linux-source-6.1',
);

/** The knowledge service over the fixture corpus and the project's FAQ, as the router calls it. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../config/logger.ts';
import type { KnowledgeService } from '../../knowledge/answer-types.ts';
import { type KnowledgeBase, loadKnowledgeBase } from '../../knowledge/knowledge-base.ts';
import { createKnowledgeService } from '../../knowledge/service.ts';
import { FIXTURE_CORPUS, REPO } from './paths.ts';

/** The index and the service over it; `name` names the index in its own temporary cache dir. */
export async function fixtureKnowledge(
  name: string,
): Promise<{ kb: KnowledgeBase; service: KnowledgeService }> {
  const log = createLogger({ logLevel: 'silent', logFormat: 'json' });
  const kb = await loadKnowledgeBase(
    {
      corpora: [FIXTURE_CORPUS],
      kernelTrees: [],
      markdownTrees: [],
      faqDir: join(REPO, 'knowledge/faq'),
      wholeDocumentation: false,
    },
    { cacheDir: mkdtempSync(join(tmpdir(), `rfl-${name}-`)), name, log },
  );
  const service = createKnowledgeService(kb, {
    knowledge: { minConfidence: 0.1, maxSources: 3 },
    llm: null,
    log,
  });
  return { kb, service };
}

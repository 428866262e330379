/** The knowledge base as the chat side uses it: questions in, structured answers out. */
import type { Logger } from '../config/logger.ts';
import { metrics } from '../config/metrics.ts';
import type { Config } from '../config/schema.ts';
import { compareVersions } from '../jobs/kernel/version.ts';
import type { Answer, FaqEntry, KnowledgeService } from './answer-types.ts';
import { composeAnswer, withVersionNote } from './compose.ts';
import { createErrorExplainer } from './errors.ts';
import { isFollowUp, withContext } from './follow-up.ts';
import { classifyMessage, ruleAnswer } from './intent.ts';
import type { KnowledgeBase } from './knowledge-base.ts';
import type { LlmPhraser } from './llm.ts';
import { retrieve } from './retrieve.ts';
import { analyze } from './tokenize.ts';
import { declarationIndex, versionHistoryAnswer } from './version-history.ts';

export interface ServiceOptions {
  knowledge: Pick<Config['knowledge'], 'minConfidence' | 'maxSources'>;
  llm: LlmPhraser | null;
  log: Logger;
}

export function createKnowledgeService(kb: KnowledgeBase, options: ServiceOptions): KnowledgeService {
  const { knowledge, llm, log } = options;
  const faqTerms = new Map(kb.faq.map((entry) => [entry, new Set(analyze(faqHaystack(entry)))]));
  const indexedVersions = kb.trees.map((tree) => tree.kernelVersion).filter((v): v is string => v !== null);
  const declarations = declarationIndex(kb.declarations);
  const explainError = createErrorExplainer(kb);
  return {
    async ask(asked: string, previous?: string): Promise<Answer> {
      const own = classifyMessage(asked);
      // "and on 6.1?" alone has nothing technical; thanks and greetings are never follow-ups.
      const followUp =
        previous !== undefined &&
        (own.intent === 'question' || own.intent === 'off-topic') &&
        isFollowUp(asked);
      const question = followUp ? withContext(asked, previous) : asked;
      const rule = ruleAnswer(followUp ? classifyMessage(question) : own);
      if (rule) return rule;
      // A pasted error is answered with its cause and fix, not with passages that share its words.
      const explained = explainError(question);
      if (explained) {
        log.debug({ kind: 'explained-error' }, 'explained');
        metrics.questionAnswered(true);
        const answer = followUp ? readWithPrevious(explained.answer, question, previous) : explained.answer;
        return withVersionNote(answer, explained.askedVersion, indexedVersions);
      }
      const started = performance.now();
      const retrieval = retrieve(kb.index, question, { defaultSeries: kb.defaultSeries });
      const history = versionHistoryAnswer(declarations, question, knowledge.maxSources);
      const answer = history ?? composeAnswer(retrieval, knowledge);
      const ms = performance.now() - started;
      metrics.observeRetrieval(ms / 1000);
      log.debug({ ms: Math.round(ms), confidence: retrieval.confidence, kind: answer.kind }, 'retrieved');
      // The version history is read from the sources, not phrased from passages.
      const final =
        answer.kind === 'answer' && llm && !history ? await llm.phrase(question, retrieval, answer) : answer;
      // Off-topic messages (composed as smalltalk) are neither.
      if (final.kind === 'answer' || final.kind === 'abstain')
        metrics.questionAnswered(final.kind === 'answer');
      const noted = followUp ? readWithPrevious(final, question, previous) : final;
      return withVersionNote(noted, retrieval.askedVersion, indexedVersions);
    },
    faq(topic: string): FaqEntry[] {
      const wanted = analyze(topic);
      if (wanted.length === 0) return [...kb.faq].sort((a, b) => a.title.localeCompare(b.title));
      const slug = topic.trim().toLowerCase();
      return kb.faq
        .map((entry) => {
          const terms = faqTerms.get(entry)!;
          const overlap = wanted.filter((t) => terms.has(t)).length / wanted.length;
          return { entry, score: entry.slug === slug ? 2 : overlap };
        })
        .filter(({ score }) => score >= 0.5)
        .sort((a, b) => b.score - a.score)
        .map(({ entry }) => entry);
    },
    kernelVersions(): string[] {
      return kb.trees
        .map((tree) => tree.kernelVersion)
        .filter((v): v is string => v !== null)
        .sort((a, b) => compareVersions(b, a));
    },
  };
}

/** Longest quote of the previous question in the note; the asker wrote it moments ago. */
const QUOTED_PREVIOUS = 80;

/** Says that a follow-up was answered together with the question before it, so a wrong guess shows. */
function readWithPrevious(answer: Answer, question: string, previous: string): Answer {
  const quoted = previous.length > QUOTED_PREVIOUS ? `${previous.slice(0, QUOTED_PREVIOUS - 1)}…` : previous;
  return {
    ...answer,
    understoodAs: question,
    details: [
      ...answer.details,
      `(Read together with your previous question: “${quoted.replace(/\s+/g, ' ')}”.)`,
    ],
  };
}

function faqHaystack(entry: FaqEntry): string {
  return [entry.slug.replaceAll('-', ' '), entry.title, ...entry.aliases].join('\n');
}

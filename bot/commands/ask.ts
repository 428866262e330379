/** `!ask <question>`, and every plain question addressed to the bot. */
import { answerMessage, textMessage } from '../chat/rich-message.ts';
import { type Command, ok } from './command.ts';

/** One person across the bot: user ids are unique per platform only. */
function askerOf(origin: { platform: string; userId: string }): string {
  return `${origin.platform}:${origin.userId}`;
}

export const askCommand: Command = {
  name: 'ask',
  usage: '<question>',
  summary: 'answer a question from the kernel docs, with links to the sources',
  async run({ args, knowledge, memory, message, prefix, activity, origin, log }) {
    if (args.length === 0) {
      return ok(
        textMessage(`What would you like to know? For example: ${prefix}ask which rustc does 6.1 need?`),
      );
    }
    let answer: Awaited<ReturnType<typeof knowledge.ask>>;
    try {
      answer = await knowledge.ask(args, memory.recentQuestion(message.conversation, askerOf(origin)));
    } catch (error) {
      return {
        ok: false,
        failure: {
          userText:
            'Sorry, something went wrong on my side while looking that up. Please try again in a little while.',
          logText: 'the knowledge service failed to answer',
          detail: error,
        },
      };
    }
    // Only answers drawn from the docs are worth paging through; a "thanks!" keeps the previous one.
    if (answer.kind === 'answer' || answer.kind === 'abstain') {
      await activity
        ?.record({
          type: 'question',
          at: Date.now(),
          platform: origin.platform,
          asker: await activity.pseudonym(origin.platform, origin.userId),
          question: args,
          private: message.isDirect,
          answered: answer.kind === 'answer',
          confidence: answer.confidence,
          kernelVersion: answer.kernelVersion,
          passages: answer.passages.slice(0, 3).map((passage) => ({
            title: passage.sectionPath.join(' › '),
            url: passage.url,
          })),
        })
        .catch((error: unknown) => log.warn({ err: error }, 'could not record the question'));
      const cited = new Set(answer.citations.map((citation) => citation.url));
      memory.remember(message.conversation, {
        // A follow-up's own words alone would lose the thread's subject for the next one.
        question: answer.understoodAs ?? args,
        passages: answer.passages,
        shown: new Set(answer.passages.filter((p) => cited.has(p.url)).map((p) => p.id)),
        numbered: answer.citations.length,
        at: Date.now(),
        askedBy: askerOf(origin),
      });
    }
    return ok(answerMessage(answer));
  },
};

/** `!faq [topic]`: the curated FAQ, listed or looked up. */

import { closestMatches } from '../../config/closest.ts';
import type { Citation, FaqEntry } from '../../knowledge/answer-types.ts';
import type { RichMessage } from '../chat/rich-message.ts';
import { textMessage } from '../chat/rich-message.ts';
import { shorten } from '../chat/shorten.ts';
import { type Command, ok } from './command.ts';

const MAX_RELATED = 3;

/** A link's last path segment and anchor: short, and says which page it is. */
function linkTitle(url: string): string {
  try {
    const { pathname, hash, hostname } = new URL(url);
    const page = pathname
      .split('/')
      .filter(Boolean)
      .at(-1)
      ?.replace(/\.html?$/, '');
    return `${page ?? hostname}${hash}`;
  } catch {
    return url;
  }
}

function entryMessage(entry: FaqEntry): RichMessage {
  const sources: Citation[] = entry.links.map((url) => ({ title: linkTitle(url), url, kernelVersion: null }));
  return { lead: entry.title, details: entry.body.trim().split('\n'), sources };
}

const listLine = (entry: FaqEntry, prefix: string) => `${prefix}faq ${entry.slug} — ${entry.title}`;

export const faqCommand: Command = {
  name: 'faq',
  usage: '[topic]',
  summary: 'list the FAQ, or show the entry on a topic',
  async run({ args, knowledge, prefix }) {
    let matches: FaqEntry[];
    let all: FaqEntry[];
    try {
      matches = knowledge.faq(args);
      all = args === '' ? matches : knowledge.faq('');
    } catch (error) {
      return {
        ok: false,
        failure: {
          userText: 'Sorry, I can’t open the FAQ right now. Please try again in a little while.',
          logText: 'the knowledge service failed to look up the FAQ',
          detail: error,
        },
      };
    }
    if (all.length === 0) return ok(textMessage('The FAQ has no entries yet. Ask your question instead.'));
    if (args === '') {
      return ok(
        textMessage(
          `FAQ entries (${all.length}):`,
          all.map((entry) => listLine(entry, prefix)),
        ),
      );
    }
    const [best, ...others] = matches;
    if (best) {
      const reply = entryMessage(best);
      const related = others.slice(0, MAX_RELATED).map((entry) => `${prefix}faq ${entry.slug}`);
      if (related.length > 0) reply.details.push('', `Related: ${related.join(', ')}`);
      return ok(reply);
    }
    // Nothing matched: the topic may be a typo of an entry's slug or alias.
    const byName = new Map(
      all.flatMap((entry) => [entry.slug, ...entry.aliases].map((name) => [name, entry])),
    );
    const close = [...new Set(closestMatches(args, [...byName.keys()]).map((name) => byName.get(name)!))];
    const topic = `“${shorten(args, 60)}”`;
    if (close.length === 0) {
      return ok(
        textMessage(`No FAQ entry matches ${topic}.`, [
          `${prefix}faq lists them all, or just ask your question.`,
        ]),
      );
    }
    return ok(
      textMessage(
        `No FAQ entry matches ${topic}. Close ones:`,
        close.slice(0, MAX_RELATED).map((entry) => listLine(entry, prefix)),
      ),
    );
  },
};

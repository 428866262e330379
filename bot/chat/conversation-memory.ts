/**
 * The last answer of each conversation, so `!sources` can page through what it found and a follow-up
 * question is asked together with the one before it.
 * Bounded by lru-cache: the least recently used conversation is forgotten first.
 */
import { LRUCache } from 'lru-cache';
import type { Passage } from '../../knowledge/passage.ts';
import { type ConversationRef, conversationKey } from './message.ts';

export interface RememberedAnswer {
  question: string;
  passages: Passage[];
  /** Ids of passages the user has seen: those cited, then those `!sources` showed. */
  shown: Set<string>;
  /** Numbers used so far on the Sources line and by `!sources`, so the next one continues from here. */
  numbered: number;
  /** When it was answered (ms since the epoch). */
  at: number;
  /** Who asked (platform and user id): only their own next question continues it. */
  askedBy: string;
}

/** A question asked longer after the previous answer than this starts a new subject. */
export const FOLLOW_UP_WINDOW_MS = 15 * 60_000;

const DEFAULT_CAPACITY = 1000;

export class ConversationMemory {
  readonly #answers: LRUCache<string, RememberedAnswer>;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.#answers = new LRUCache({ max: capacity });
  }

  remember(conversation: ConversationRef, answer: RememberedAnswer): void {
    this.#answers.set(conversationKey(conversation), answer);
  }

  lastAnswer(conversation: ConversationRef): RememberedAnswer | undefined {
    return this.#answers.get(conversationKey(conversation));
  }

  /**
   * The question `asker` had answered last in this conversation, if recent enough for a follow-up to
   * continue it: in a busy room, someone else's "and on 6.1?" is about their own question.
   */
  recentQuestion(conversation: ConversationRef, asker: string, now = Date.now()): string | undefined {
    const last = this.lastAnswer(conversation);
    return last && last.askedBy === asker && now - last.at <= FOLLOW_UP_WINDOW_MS ? last.question : undefined;
  }
}

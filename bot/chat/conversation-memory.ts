/**
 * The last answer of each conversation, so `!sources` can page through what it found.
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
}

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
}

/** The last answer of each conversation, so `!sources` can page through what it found. */
import type { Passage } from '../knowledge/passage.ts';
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

/** Bounded: the least recently used conversation is forgotten first. */
export class ConversationMemory {
  readonly #answers = new Map<string, RememberedAnswer>();
  readonly #capacity: number;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.#capacity = capacity;
  }

  remember(conversation: ConversationRef, answer: RememberedAnswer): void {
    const key = conversationKey(conversation);
    this.#answers.delete(key);
    this.#answers.set(key, answer);
    if (this.#answers.size > this.#capacity) {
      const oldest = this.#answers.keys().next().value;
      if (oldest !== undefined) this.#answers.delete(oldest);
    }
  }

  lastAnswer(conversation: ConversationRef): RememberedAnswer | undefined {
    const key = conversationKey(conversation);
    const answer = this.#answers.get(key);
    if (answer) {
      this.#answers.delete(key);
      this.#answers.set(key, answer);
    }
    return answer;
  }
}

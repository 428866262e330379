/**
 * What the Zulip adapter remembers between events. Edits, deletions and reactions name only a message id,
 * so the messages seen are remembered (whose, where, when), bounded by lru-cache; one not remembered (from
 * before a restart, or long ago) is fetched by id. Moves (a message or a whole topic taken to another
 * topic or channel) are applied to the messages remembered, so that each is known where it now is. And
 * the bot's messages that could no longer be edited, each with the message that took its place, so that
 * later edits go to the newest; and which question each of the bot's replies answers, so that its later
 * replies go where the question now is.
 */
import { LRUCache } from 'lru-cache';
import type { Result } from '../../../config/result.ts';
import type { ZulipMessage } from './api-types.ts';
import type { ZulipClient } from './client.ts';

/** Messages remembered: enough for the edits, deletions and reactions of the last hours. */
const MEMORY_LIMIT = 5000;

export interface KnownMessage {
  message: ZulipMessage;
  /** The bot's flags on it ("mentioned"). */
  flags: string[];
}

/** Where messages were moved: a topic and/or channel change, as an update_message event gives it. */
export interface Move {
  messageIds: readonly number[];
  /** The channel they were in. */
  fromStreamId: number;
  /** Set when the channel changed. */
  toStreamId?: number;
  /** Set when the topic changed. */
  toTopic?: string;
}

export class KnownMessages {
  readonly #client: Pick<ZulipClient, 'message'>;
  readonly #messages = new LRUCache<number, KnownMessage>({ max: MEMORY_LIMIT });
  readonly #replacements = new LRUCache<number, number[]>({ max: MEMORY_LIMIT });
  /** The question (a user's message) each of the bot's replies answers. */
  readonly #questions = new LRUCache<number, number>({ max: MEMORY_LIMIT });

  constructor(client: Pick<ZulipClient, 'message'>) {
    this.#client = client;
  }

  remember(message: ZulipMessage, flags: readonly string[]): void {
    this.#messages.set(message.id, { message, flags: [...flags] });
  }

  forget(messageId: number): void {
    this.#messages.delete(messageId);
  }

  /**
   * Messages moved to another topic or channel. A channel's name is not in the event: a message moved to
   * another channel is forgotten, and fetched anew (with its channel's name) when next needed.
   */
  moved(move: Move): void {
    for (const id of move.messageIds) {
      const known = this.#messages.get(id);
      if (known?.message.type !== 'stream') continue;
      if (move.toStreamId !== undefined && move.toStreamId !== move.fromStreamId) {
        this.#messages.delete(id);
        continue;
      }
      const subject = move.toTopic ?? known.message.subject;
      this.#messages.set(id, { ...known, message: { ...known.message, subject } });
    }
  }

  /** The message if remembered; no request. */
  peek(messageId: number): KnownMessage | undefined {
    return this.#messages.get(messageId);
  }

  /** The message, remembered or fetched (GET /messages/{id}); null when Zulip has none the bot may see. */
  async find(messageId: number): Promise<Result<KnownMessage | null>> {
    const known = this.#messages.get(messageId);
    if (known) return { ok: true, value: known };
    const fetched = await this.#client.message(messageId);
    if (!fetched.ok) return fetched;
    if (!fetched.value) return { ok: true, value: null };
    const { flags = [], ...message } = fetched.value;
    this.remember(message, flags);
    return { ok: true, value: { message, flags } };
  }

  /** The bot's message `messageId` stands for now: itself, or the newest that took its place. */
  current(messageId: number): number {
    return this.#replacements.get(messageId)?.at(-1) ?? messageId;
  }

  /** The messages that took the place of `messageId`, oldest first. */
  replacements(messageId: number): number[] {
    return this.#replacements.get(messageId) ?? [];
  }

  /** The bot's message `replyId` answers the user's message `questionId`. */
  answers(replyId: number, questionId: number): void {
    this.#questions.set(replyId, questionId);
  }

  /** The user's message the bot's message `replyId` answers, if known (forgotten across a restart). */
  questionOf(replyId: number): number | undefined {
    return this.#questions.get(replyId);
  }

  /** `replacement` took the place of `messageId` (of the newest that had replaced it). */
  replaced(messageId: number, replacement: number): void {
    this.#replacements.set(messageId, [...this.replacements(messageId), replacement]);
  }
}

/**
 * What the Discord adapter remembers between events, for the last hours: the replies it sent (to edit or
 * remove them, to tell which answer a reaction or button is on, and to ignore the deletion of its own
 * messages) and the download URLs of the attachments it saw. Both are bounded by lru-cache: the least
 * recently used entries are forgotten first. A reply sent before a restart is known by its first message only.
 */
import { LRUCache } from 'lru-cache';
import type { Destination } from './channels.ts';

/** Remembered replies, messages and attachments: enough for the replies and uploads of the last hours. */
export const MEMORY_LIMIT = 2000;

/** The question a reply answers, as a message that can be fetched again (for Retry). */
export interface Question {
  channelId: string;
  messageId: string;
}

export interface SentReply {
  destination: Destination;
  /** The reply's messages: a long reply is several. */
  messageIds: string[];
  question: Question | null;
}

/** The replies the bot sent, by their first message, and each message it sent to the reply it is part of. */
export class SentReplies {
  readonly #replies: LRUCache<string, SentReply>;
  readonly #replyOf: LRUCache<string, string>;

  constructor(limit = MEMORY_LIMIT) {
    this.#replies = new LRUCache({ max: limit });
    this.#replyOf = new LRUCache({ max: limit });
  }

  /** The reply whose first message is `firstId`. */
  get(firstId: string): SentReply | undefined {
    return this.#replies.get(firstId);
  }

  set(firstId: string, reply: SentReply): void {
    this.#replies.set(firstId, reply);
  }

  /** Forgets the reply; its messages stay known as the bot's (their deletion is the bot's own doing). */
  delete(firstId: string): void {
    this.#replies.delete(firstId);
  }

  /** Records that the bot sent `messageId` as part of the reply whose first message is `firstId`. */
  link(messageId: string, firstId: string): void {
    this.#replyOf.set(messageId, firstId);
  }

  /** The first message of the reply `messageId` is part of; `messageId` itself when not remembered. */
  replyIdOf(messageId: string): string {
    return this.#replyOf.get(messageId) ?? messageId;
  }

  /** Whether `messageId` is one the bot sent (and still remembers). */
  isBotMessage(messageId: string): boolean {
    return this.#replyOf.has(messageId);
  }
}

/** Download URLs of the attachments seen in messages and slash commands, by attachment id. */
export class AttachmentUrls {
  readonly #urls: LRUCache<string, string>;

  constructor(limit = MEMORY_LIMIT) {
    this.#urls = new LRUCache({ max: limit });
  }

  remember(attachmentId: string, url: string): void {
    this.#urls.set(attachmentId, url);
  }

  urlOf(attachmentId: string): string | undefined {
    return this.#urls.get(attachmentId);
  }
}

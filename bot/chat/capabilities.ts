/**
 * What the bot can do on a platform, one narrow interface per capability: an adapter implements
 * those its platform supports, and code that needs one asks for exactly that one.
 */
import type { Result } from '../../config/result.ts';
import type { AttachmentInfo, ConversationRef } from './message.ts';
import type { RichMessage } from './rich-message.ts';

/** A message the bot sent, so it can be edited or reacted to later. */
export interface MessageRef {
  conversation: ConversationRef;
  messageId: string;
}

export interface SendOptions {
  /** The id of the message this one answers; platforms that support replies quote it. */
  replyTo?: string;
  /**
   * The same key sent again is not posted again (Matrix transaction ids, Discord enforced nonces): a
   * retry after a crash between sending and recording it posts once.
   */
  idempotencyKey?: string;
}

export interface MessageSender {
  /** Sends to the conversation's room, inside its thread when it has one. */
  send(to: ConversationRef, content: RichMessage, options?: SendOptions): Promise<MessageRef>;
}

export interface MessageEditor {
  edit(message: MessageRef, content: RichMessage): Promise<void>;
}

export interface ReactionSender {
  /** `reaction` is a Unicode emoji; adapters map it to their platform's form. */
  react(to: MessageRef, reaction: string): Promise<void>;
}

export interface MessageRemover {
  /** Deletes (Discord) or redacts (Matrix) one of the bot's messages. */
  remove(message: MessageRef): Promise<void>;
}

export interface AttachmentFetcher {
  /**
   * The attachment's bytes, or a failure when it is larger than `maxBytes` (refused before
   * downloading when the size is announced, otherwise as soon as the download passes the cap)
   * or cannot be fetched.
   */
  fetch(attachment: AttachmentInfo, options: { maxBytes: number }): Promise<Result<Uint8Array>>;
}

/** The platform-neutral model of a message the bot receives; each adapter maps its own events to it. */

/** Where a message lives: a room (Matrix) or channel (Discord), and the thread inside it, if any. */
export interface ConversationRef {
  roomId: string;
  threadId?: string;
}

export interface Author {
  id: string;
  name: string;
}

/** What an adapter knows about an attachment before fetching it (see AttachmentFetcher). */
export interface AttachmentInfo {
  id: string;
  name: string;
  mimeType: string | null;
  /** Size in bytes when the platform announces it, so oversized files are refused without fetching. */
  size: number | null;
}

export interface IncomingMessage {
  /** The platform's id of this message, used to reply to it. */
  id: string;
  conversation: ConversationRef;
  author: Author;
  /** The text as the user wrote it, unsanitized. */
  text: string;
  /** A direct message (or the terminal): every message is addressed to the bot. */
  isDirect: boolean;
  /** The bot was mentioned (the adapter decides what counts as a mention on its platform). */
  mentionsBot: boolean;
  attachments: AttachmentInfo[];
}

/** Conversation memory is per thread: an answer in a thread is not "the last answer" of its room. */
export function conversationKey(conversation: ConversationRef): string {
  return `${conversation.roomId}\u0000${conversation.threadId ?? ''}`;
}

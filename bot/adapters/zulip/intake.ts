/**
 * Zulip message events as the router's IncomingMessage. A channel message's conversation is its topic:
 * roomId the channel's id (digits), threadId the topic; a direct message's is its participants other
 * than the bot (roomId `dm:<ids>`, no threadId), so the two can never be mistaken for each other and
 * a DM's reply is always a DM. Uploads linked in the text (`[name](/user_uploads/…)`) are attachments,
 * taken out of the text.
 */
import type { AttachmentInfo, ConversationRef, IncomingMessage } from '../../chat/message.ts';
import type { ZulipMessage } from './api-types.ts';

/** The bot's own user, as its credentials and POST /register name it. */
export interface ZulipSelf {
  userId: number;
  fullName: string;
}

const DM_PREFIX = 'dm:';

/** A message's conversation: the channel and topic, or the direct message's other participants. */
export function conversationOf(message: ZulipMessage, self: ZulipSelf): ConversationRef {
  if (message.type === 'stream') return { roomId: String(message.stream_id), threadId: message.subject };
  const participants = Array.isArray(message.display_recipient) ? message.display_recipient : [];
  const others = participants.map((user) => user.id).filter((id) => id !== self.userId);
  return { roomId: `${DM_PREFIX}${[...new Set(others)].sort((a, b) => a - b).join(',')}` };
}

/** The users a DM conversation goes to; null for a channel's topic. */
export function directRecipients(conversation: ConversationRef): number[] | null {
  if (!conversation.roomId.startsWith(DM_PREFIX)) return null;
  return conversation.roomId.slice(DM_PREFIX.length).split(',').map(Number);
}

/** `@**Name**` and `@**Name|id**` (silent `@_**…**` mentions notify nobody, so they do not ask). */
function mentionsOf(self: ZulipSelf): string[] {
  return [`@**${self.fullName}|${self.userId}**`, `@**${self.fullName}**`];
}

/** The text without a leading mention of the bot, and whether the bot is mentioned anywhere. */
export function readMentions(content: string, self: ZulipSelf): { text: string; mentionsBot: boolean } {
  const mentions = mentionsOf(self);
  const mentionsBot = mentions.some((mention) => content.includes(mention));
  const trimmed = content.trimStart();
  const leading = mentions.find((mention) => trimmed.startsWith(mention));
  const text = leading ? trimmed.slice(leading.length).replace(/^[\s:,]+/, '') : content;
  return { text, mentionsBot };
}

const UPLOAD_LINK_START = '](/user_uploads/';

/**
 * The uploads linked in the text (`[name](/user_uploads/…)`, as Zulip's compose box writes them) and the
 * text without those links: an attached file is not part of what the user wrote (`!check-config` with
 * an upload reads the file, not its link). Read without a regex, in one pass.
 */
export function readUploads(content: string): { text: string; attachments: AttachmentInfo[] } {
  const attachments: AttachmentInfo[] = [];
  let text = '';
  let copied = 0;
  let from = 0;
  for (let at = content.indexOf(UPLOAD_LINK_START); at >= 0; at = content.indexOf(UPLOAD_LINK_START, from)) {
    const pathStart = at + 2;
    let pathEnd = pathStart;
    while (pathEnd < content.length && content[pathEnd] !== ')' && content[pathEnd]!.trim() !== '')
      pathEnd += 1;
    const nameStart = content.lastIndexOf('[', at);
    from = pathEnd;
    if (content[pathEnd] !== ')' || nameStart < copied) continue;
    const path = content.slice(pathStart, pathEnd);
    const name = content.slice(nameStart + 1, at) || path.slice(path.lastIndexOf('/') + 1);
    attachments.push({ id: path, name, mimeType: null, size: null });
    text += content.slice(copied, nameStart);
    copied = pathEnd + 1;
  }
  return { text: text + content.slice(copied), attachments };
}

export interface IntakeOptions {
  self: ZulipSelf;
  /** Channels (names) where every message is read; elsewhere only mentions of the bot. */
  channels: ReadonlySet<string>;
}

/**
 * A user's message as the router sees it; null for the bot's own, and for a channel message outside
 * `channels` that does not mention the bot. `flags` are the event's: "mentioned" when Zulip saw the
 * mention (empty for messages fetched after a lost queue, where the text decides).
 */
export function toIncomingMessage(
  message: ZulipMessage,
  flags: readonly string[],
  options: IntakeOptions,
): IncomingMessage | null {
  const { self } = options;
  if (message.sender_id === self.userId) return null;
  const uploads = readUploads(message.content);
  const read = readMentions(uploads.text, self);
  const mentionsBot = read.mentionsBot || flags.includes('mentioned');
  const isDirect = message.type === 'private';
  const channel = typeof message.display_recipient === 'string' ? message.display_recipient : '';
  if (!isDirect && !mentionsBot && !options.channels.has(channel)) return null;
  return {
    id: String(message.id),
    conversation: conversationOf(message, self),
    author: { id: String(message.sender_id), name: message.sender_full_name },
    text: read.text,
    isDirect,
    mentionsBot,
    attachments: uploads.attachments,
  };
}

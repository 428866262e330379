/**
 * Discord messages and interactions as the router's IncomingMessage: who wrote it, in which
 * conversation (a server channel's question is the thread its reply starts), whether it is a DM or
 * mentions the bot, and its attachments (their download URLs remembered for the surface to fetch).
 */
import type { Channel, Interaction, Message, PartialMessage } from 'discord.js';
import type { AttachmentInfo, ConversationRef, IncomingMessage } from '../../chat/message.ts';
import type { AttachmentUrls } from './memory.ts';

/** The bot's own user, known once connected. */
export interface DiscordSelf {
  readonly id: string;
  readonly username: string;
}

/** An attachment as discord.js describes it. */
interface DiscordAttachment {
  id: string;
  name: string;
  url: string;
  contentType: string | null;
  size: number;
}

/**
 * A message's conversation: in a thread, the thread; in a DM, the DM; in a server channel, the thread
 * the reply will start from this message (it gets the message's id).
 */
export function conversationOf(channel: Channel, messageId: string): ConversationRef {
  if (channel.isThread()) return { roomId: channel.parentId ?? channel.id, threadId: channel.id };
  if (channel.isDMBased()) return { roomId: channel.id };
  return { roomId: channel.id, threadId: messageId };
}

/** An interaction's conversation: where it was used (its reply cannot start a thread). */
export function interactionConversation(interaction: Interaction): ConversationRef {
  const channel = interaction.channel;
  if (channel?.isThread()) return { roomId: channel.parentId ?? channel.id, threadId: channel.id };
  return { roomId: interaction.channelId ?? 'unknown' };
}

/** The attachments as the router sees them; their URLs are remembered for the download. */
export function attachmentsOf(
  attachments: Iterable<DiscordAttachment>,
  urls: AttachmentUrls,
): AttachmentInfo[] {
  return [...attachments].map((attachment) => {
    urls.remember(attachment.id, attachment.url);
    return {
      id: attachment.id,
      name: attachment.name,
      mimeType: attachment.contentType,
      size: attachment.size,
    };
  });
}

/** A user mention (`<@id>`, or `<@!id>` with a nickname), and one the text starts with. */
const MENTION = /<@!?(\d{1,20})>/g;
const LEADING_MENTION = /^\s*<@!?(\d{1,20})>[\s:,]*/;

/** The text without the bot's mention it starts with, and with its other mentions as `@name`. */
export function withoutBotMentions(text: string, self: DiscordSelf): string {
  const ifBot = (replacement: string) => (match: string, id: string) =>
    id === self.id ? replacement : match;
  return text.replace(LEADING_MENTION, ifBot('')).replace(MENTION, ifBot(`@${self.username}`));
}

/** A user's message as the router sees it; null for the bot's own messages, other bots and system ones. */
export function toIncomingMessage(
  message: Message,
  self: DiscordSelf,
  urls: AttachmentUrls,
): IncomingMessage | null {
  if (message.author.bot || message.system) return null;
  return {
    id: message.id,
    conversation: conversationOf(message.channel, message.id),
    author: { id: message.author.id, name: message.member?.displayName ?? message.author.displayName },
    text: withoutBotMentions(message.content, self),
    isDirect: message.channel.isDMBased(),
    mentionsBot: message.mentions.users.has(self.id),
    attachments: attachmentsOf(message.attachments.values(), urls),
  };
}

/** A slash command or button press as a message of its user, in the conversation where it was used. */
export function interactionQuestion(
  interaction: Interaction,
  text: string,
  attachments: AttachmentInfo[] = [],
): IncomingMessage {
  return {
    id: interaction.id,
    conversation: interactionConversation(interaction),
    author: { id: interaction.user.id, name: interaction.user.displayName },
    text,
    isDirect: interaction.guildId === null,
    mentionsBot: false,
    attachments,
  };
}

/** Whether an update is an edit of the text: Discord also sends updates for embeds unfurling. */
export function isTextEdit(
  before: Message | PartialMessage,
  after: Message | PartialMessage,
): after is Message {
  return !(after.partial || !after.editedTimestamp || (!before.partial && before.content === after.content));
}

/**
 * What the bot does on Discord, for the dispatcher and outside a reply: send a reply (rendered into
 * messages of at most 2,000 characters, the buttons on its last one, files attached; each message
 * carries an enforced nonce, so that Discord creates it once: derived from the idempotency key when there
 * is one, so that it holds across a restart, else discord.js's own for the send, bot.ts), edit it in place
 * (messages edited, added or removed to fit), remove it, react to a message, and download an attachment
 * under a size cap. No message mentions anyone but, as a reply, the asker.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../../../config/logger.ts';
import type { Result } from '../../../config/result.ts';
import type {
  AttachmentFetcher,
  MessageEditor,
  MessageRef,
  MessageRemover,
  MessageSender,
  ReactionSender,
  SendOptions,
} from '../../chat/capabilities.ts';
import type { AttachmentInfo, ConversationRef } from '../../chat/message.ts';
import type { RichMessage } from '../../chat/rich-message.ts';
import type { DispatchSurface } from '../../dispatch/dispatcher.ts';
import { buttonsFor } from './buttons.ts';
import { channelDestination, type Destination, type DiscordChannels, type Payload } from './channels.ts';
import type { AttachmentUrls, Question, SentReplies, SentReply } from './memory.ts';
import { renderDiscord } from './render.ts';

export type DiscordChat = MessageSender & MessageEditor & MessageRemover & ReactionSender & AttachmentFetcher;

export interface DiscordSurface extends DiscordChat {
  /**
   * Sends a reply to `destination` (an interaction's response) rather than to the conversation's channel;
   * it is remembered like any other, for edits.
   */
  sendTo(
    destination: Destination,
    to: ConversationRef,
    content: RichMessage,
    replyTo: string | null,
    question: Question | null,
    idempotencyKey?: string,
  ): Promise<MessageRef>;
}

export interface DiscordSurfaceOptions {
  channels: DiscordChannels;
  replies: SentReplies;
  attachmentUrls: AttachmentUrls;
  /** Replies needing more messages than this go as one message plus an attached file. */
  maxMessagesPerReply?: number;
}

const ATTACHMENT_TIMEOUT_MS = 30_000;

const failure = <T>(userText: string, logText: string, detail?: unknown): Result<T> => ({
  ok: false,
  failure: { userText, logText, detail },
});

/** Nonces are at most 25 characters: a digest of the key. */
export const discordNonce = (key: string) =>
  createHash('sha256').update(key).digest('base64url').slice(0, 25);

/** The question a reply answers, when it is a message that can be fetched again (for Retry). */
export function questionOf(to: ConversationRef, replyTo: string | undefined): Question | null {
  if (!replyTo) return null;
  const inRoom = !to.threadId || to.threadId === replyTo;
  return { channelId: inRoom ? to.roomId : to.threadId!, messageId: replyTo };
}

/**
 * A reply's messages: the rendered text cut into messages, the buttons and files on the last one. An edit
 * (`editing`) replaces the files a message had.
 */
export function payloads(
  content: RichMessage,
  question: Question | null,
  editing: boolean,
  maxMessages?: number,
): Payload[] {
  const rendering = renderDiscord(content, maxMessages ? { maxMessages } : {});
  const components = buttonsFor(content, question);
  return rendering.messages.map((text, index) => {
    const last = index === rendering.messages.length - 1;
    const file = last && rendering.attachment;
    const files = [
      ...(file ? [{ attachment: Buffer.from(file.text), name: file.name }] : []),
      ...(last && content.image
        ? [{ attachment: Buffer.from(content.image.png), name: content.image.name }]
        : []),
    ];
    return {
      content: text,
      components: last ? components : [],
      allowedMentions: { parse: [], repliedUser: false },
      ...(files.length > 0 ? { files } : {}),
      // An edit replaces the files a message had.
      ...(editing ? { attachments: [] } : {}),
    };
  });
}

/** Downloads `url`, refusing more than `maxBytes` (the announced size can be wrong). Null when too large. */
async function download(url: string, maxBytes: number): Promise<Uint8Array | null> {
  const response = await fetch(url, { signal: AbortSignal.timeout(ATTACHMENT_TIMEOUT_MS) });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    // The announced size can be wrong: the cap holds for what actually arrives.
    if (size > maxBytes) {
      await response.body.cancel().catch(() => {});
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function createDiscordSurface(options: DiscordSurfaceOptions): DiscordSurface {
  const { channels, replies, attachmentUrls, maxMessagesPerReply: maxMessages } = options;

  async function sendTo(
    destination: Destination,
    to: ConversationRef,
    content: RichMessage,
    replyTo: string | null,
    question: Question | null,
    idempotencyKey?: string,
  ): Promise<MessageRef> {
    const messageIds: string[] = [];
    for (const [index, payload] of payloads(content, question, false, maxMessages).entries()) {
      const once = idempotencyKey
        ? { nonce: discordNonce(`${idempotencyKey}#${index}`), enforceNonce: true }
        : {};
      const message = await destination.post({ ...payload, ...once }, index === 0 ? replyTo : null);
      messageIds.push(message.id);
    }
    const [first = ''] = messageIds;
    for (const id of messageIds) replies.link(id, first);
    replies.set(first, { destination, messageIds, question });
    return { conversation: to, messageId: first };
  }

  /** A reply sent before a restart is known by its first message only. */
  const replyOf = (ref: MessageRef): SentReply =>
    replies.get(ref.messageId) ?? {
      destination: channelDestination(channels, ref.conversation),
      messageIds: [ref.messageId],
      question: null,
    };

  return {
    sendTo,

    send: (to, content, sendOptions: SendOptions = {}) =>
      sendTo(
        channelDestination(channels, to),
        to,
        content,
        sendOptions.replyTo ?? null,
        questionOf(to, sendOptions.replyTo),
        sendOptions.idempotencyKey,
      ),

    /** Edits a reply in place: its messages are edited, added or removed to fit the new text. */
    async edit(ref, content) {
      const reply = replyOf(ref);
      const next = payloads(content, reply.question, true, maxMessages);
      const kept: string[] = [];
      for (const [index, payload] of next.entries()) {
        const existing = reply.messageIds[index];
        if (existing) await reply.destination.edit(existing, payload);
        const id = existing ?? (await reply.destination.post(payload, null)).id;
        kept.push(id);
        replies.link(id, ref.messageId);
      }
      for (const extra of reply.messageIds.slice(next.length)) await reply.destination.remove(extra);
      reply.messageIds = kept;
      replies.set(ref.messageId, reply);
    },

    async remove(ref) {
      const reply = replyOf(ref);
      for (const id of reply.messageIds) await reply.destination.remove(id);
      replies.delete(ref.messageId);
    },

    async react(to, reaction) {
      await (await channels.channelFor(to.conversation)).messages.react(to.messageId, reaction);
    },

    async fetch(attachment: AttachmentInfo, { maxBytes }): Promise<Result<Uint8Array>> {
      const tooLarge = (): Result<Uint8Array> => ({
        ok: false,
        failure: {
          userText: `“${attachment.name}” is larger than ${Math.floor(maxBytes / 1024)} KB, the most I take.`,
          logText: 'refused an oversized attachment',
          detail: { name: attachment.name, size: attachment.size, maxBytes },
          userMistake: true,
        },
      });
      const url = attachmentUrls.urlOf(attachment.id);
      if (!url)
        return failure('I can’t see that file anymore. Please attach it again.', 'unknown attachment');
      if (attachment.size !== null && attachment.size > maxBytes) return tooLarge();
      try {
        const bytes = await download(url, maxBytes);
        return bytes ? { ok: true, value: bytes } : tooLarge();
      } catch (error) {
        return failure(
          `I couldn’t download “${attachment.name}”. Please try again.`,
          'attachment download failed',
          error,
        );
      }
    },
  };
}

/** The surface the dispatcher answers channel messages through; later replies' failures are logged. */
export function discordDispatchSurface(chat: DiscordChat, log: Logger): DispatchSurface {
  return {
    platform: 'discord',
    sender: chat,
    attachments: chat,
    remover: chat,
    track: (work) => void work.catch((error: unknown) => log.error({ err: error }, 'a later reply failed')),
  };
}

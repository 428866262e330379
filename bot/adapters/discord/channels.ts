/**
 * Where the bot's messages go on Discord. In a server channel a reply starts a thread from the question
 * (the thread gets the question's id, so a question and its follow-ups share one conversation), named
 * after the question's first words; in a thread or a DM it goes there. A slash command's or button's
 * reply is the interaction's (deferred) response, and follow-ups for further messages.
 */
import {
  type APIActionRowComponent,
  type APIButtonComponent,
  ChannelType,
  type Client,
  MessageFlags,
  type RepliableInteraction,
  type SendableChannels,
  ThreadAutoArchiveDuration,
} from 'discord.js';
import type { Logger } from '../../../config/logger.ts';
import { metrics } from '../../../config/metrics.ts';
import type { ConversationRef } from '../../chat/message.ts';

/** One Discord message of a reply, as discord.js sends it. */
export interface Payload {
  content: string;
  components: APIActionRowComponent<APIButtonComponent>[];
  files?: { attachment: Buffer; name: string }[];
  /** Discord refuses a second message with the same enforced nonce (a few minutes). */
  nonce?: string;
  enforceNonce?: boolean;
  attachments?: [];
  allowedMentions: { parse: []; repliedUser: boolean };
}

/** Where a reply's messages go: a channel, or an interaction's response and follow-ups. */
export interface Destination {
  post(payload: Payload, replyTo: string | null): Promise<{ id: string }>;
  edit(messageId: string, payload: Payload): Promise<unknown>;
  remove(messageId: string): Promise<unknown>;
}

const THREAD_NAME_CHARS = 80;
const DEFAULT_THREAD_NAME = 'rfl-onboard';

/** The thread's name: the start of the question, on one line. */
export function threadName(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line === '') return DEFAULT_THREAD_NAME;
  return line.length <= THREAD_NAME_CHARS ? line : `${line.slice(0, THREAD_NAME_CHARS - 1)}…`;
}

/** The channels replies go to, and the threads opened from questions (each opened once). */
export class DiscordChannels {
  readonly #client: Client;
  readonly #log: Logger;
  /** Threads being opened, so that the replies racing to one open it once. */
  readonly #opening = new Map<string, Promise<SendableChannels>>();
  /** Names of the threads the questions being handled may open (see nameThread). */
  readonly #threadNames = new Map<string, string>();

  constructor(client: Client, log: Logger) {
    this.#client = client;
    this.#log = log;
  }

  /**
   * While question `threadId` is handled, the thread its reply opens is named after `text`. The name is
   * forgotten when its handling ends (forgetThreadName): a later reply reuses the open thread.
   */
  nameThread(threadId: string, text: string): void {
    this.#threadNames.set(threadId, threadName(text));
  }

  forgetThreadName(threadId: string): void {
    this.#threadNames.delete(threadId);
  }

  async sendable(channelId: string): Promise<SendableChannels> {
    const channel = await this.#client.channels.fetch(channelId);
    if (!channel?.isSendable()) throw new Error(`cannot send to channel ${channelId}`);
    return channel;
  }

  /** The conversation's channel: its thread (opened from the question on first use) or its room. */
  channelFor(conversation: ConversationRef): Promise<SendableChannels> {
    const { roomId, threadId } = conversation;
    if (!threadId) return this.sendable(roomId);
    const cached = this.#client.channels.cache.get(threadId);
    if (cached?.isSendable()) return Promise.resolve(cached);
    let opening = this.#opening.get(threadId);
    if (!opening) {
      // The name is read now: the message's entry is gone once its handling ends.
      opening = this.#openThread(roomId, threadId, this.#threadNames.get(threadId) ?? DEFAULT_THREAD_NAME);
      this.#opening.set(threadId, opening);
      const forget = () => this.#opening.delete(threadId);
      opening.then(forget, forget);
    }
    return opening;
  }

  /** The thread started from message `threadId`: created on first use, the room when that fails. */
  async #openThread(roomId: string, threadId: string, name: string): Promise<SendableChannels> {
    const room = await this.#client.channels.fetch(roomId);
    if (room?.type === ChannelType.GuildText || room?.type === ChannelType.GuildAnnouncement) {
      try {
        return await room.threads.create({
          startMessage: threadId,
          name,
          autoArchiveDuration: ThreadAutoArchiveDuration.OneDay,
        });
      } catch (error) {
        // Most often the thread exists already (a retry, a restart): it is fetched below.
        this.#log.debug({ err: error, threadId }, 'could not start a thread');
      }
    }
    const existing = await this.#client.channels.fetch(threadId).catch(() => null);
    if (existing?.isSendable()) return existing;
    this.#log.warn({ roomId, threadId }, 'no thread for the reply: answering in the channel');
    return this.sendable(roomId);
  }
}

/** A conversation's channel as a destination; only a reply to a later message quotes it. */
export function channelDestination(channels: DiscordChannels, conversation: ConversationRef): Destination {
  return {
    async post(payload, replyTo) {
      // The thread's first message already quotes the question; later replies point at theirs.
      const reply = replyTo && replyTo !== conversation.threadId;
      const channel = await channels.channelFor(conversation);
      return channel
        .send({
          ...payload,
          allowedMentions: { ...payload.allowedMentions, repliedUser: Boolean(reply) },
          ...(reply ? { reply: { messageReference: replyTo, failIfNotExists: false } } : {}),
        })
        .catch((error: unknown) => {
          metrics.chatSendError('discord', error);
          throw error;
        });
    },
    edit: async (messageId, payload) =>
      (await channels.channelFor(conversation)).messages.edit(messageId, payload),
    remove: async (messageId) => (await channels.channelFor(conversation)).messages.delete(messageId),
  };
}

/**
 * An interaction's (already deferred) response as a destination: the first message fills the response,
 * the next ones are follow-ups (private too when `ephemeral`).
 */
export function interactionDestination(interaction: RepliableInteraction, ephemeral = false): Destination {
  let first = true;
  return {
    post(payload) {
      if (!first)
        return interaction.followUp({
          ...payload,
          ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}),
        });
      first = false;
      return interaction.editReply(payload);
    },
    edit: (messageId, payload) => interaction.editReply({ ...payload, message: messageId }),
    remove: (messageId) => interaction.deleteReply(messageId),
  };
}

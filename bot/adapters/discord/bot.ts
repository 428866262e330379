/**
 * The bot on Discord (discord.js v14). Messages that are for the bot (prefix commands, mentions, DMs) go
 * to the router; in a server channel the reply starts a thread from the user's message, and that thread
 * has the message's id, so a question and its follow-ups in the thread share one conversation.
 * Slash commands are acknowledged at once (a deferred reply) and finished by editing that reply, with
 * follow-ups for further messages. No message mentions anyone but, as a reply, the asker. Rate limits
 * (429) are discord.js's: it waits `Retry-After` and sends again.
 */
import { createHash } from 'node:crypto';
import {
  type APIActionRowComponent,
  type APIButtonComponent,
  type ButtonInteraction,
  type Channel,
  ChannelType,
  type ChatInputCommandInteraction,
  Client,
  Events,
  GatewayIntentBits,
  type Interaction,
  type Message,
  MessageFlags,
  type PartialMessage,
  Partials,
  type RepliableInteraction,
  Routes,
  type SendableChannels,
  ThreadAutoArchiveDuration,
} from 'discord.js';
import type { Logger } from '../../../config/logger.ts';
import { metrics } from '../../../config/metrics.ts';
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
import type { AttachmentInfo, ConversationRef, IncomingMessage } from '../../chat/message.ts';
import type { RichMessage } from '../../chat/rich-message.ts';
import type { Dispatcher, DispatchSurface } from '../../dispatch/dispatcher.ts';
import { buttonsFor, parseButtonId } from './buttons.ts';
import { renderDiscord } from './render.ts';
import { SLASH_COMMANDS, slashCommandText } from './slash-commands.ts';

export interface DiscordBotOptions {
  token: string;
  applicationId: string;
  /** Slash commands are registered in these guilds (at once); empty: globally (Discord may take an hour). */
  guildIds: string[];
  /** Messages, edits, deletions and feedback go here (bot/dispatch/dispatcher.ts). */
  dispatcher: Dispatcher;
  /** The router's command prefix, for the commands slash commands and buttons stand for. */
  commandPrefix: string;
  log: Logger;
  /** REST base URL, `https://discord.com/api` by default; tests point it at a fake. */
  restUrl?: string;
  /** Replies needing more messages than this go as one message plus an attached file. */
  maxMessagesPerReply?: number;
}

export type DiscordChat = MessageSender & MessageEditor & MessageRemover & ReactionSender & AttachmentFetcher;

export interface DiscordBot {
  /** What the bot can do in any conversation, outside a reply too. */
  chat: DiscordChat;
  userId: string;
  /** Connected to the gateway now (for /readyz). */
  isConnected(): boolean;
  stop(): Promise<void>;
}

type Components = APIActionRowComponent<APIButtonComponent>[];
interface Payload {
  content: string;
  components: Components;
  files?: { attachment: Buffer; name: string }[];
  /** Discord refuses a second message with the same enforced nonce (a few minutes). */
  nonce?: string;
  enforceNonce?: boolean;
  attachments?: [];
  allowedMentions: { parse: []; repliedUser: boolean };
}

/** Where a reply's messages go: a channel, or an interaction's response and follow-ups. */
interface Destination {
  post(payload: Payload, replyTo: string | null): Promise<{ id: string }>;
  edit(messageId: string, payload: Payload): Promise<unknown>;
  remove(messageId: string): Promise<unknown>;
}

interface SentReply {
  destination: Destination;
  /** The reply's messages: a long reply is several. */
  messageIds: string[];
  question: Question | null;
}

type Question = { channelId: string; messageId: string };

const INTENTS = [
  GatewayIntentBits.Guilds,
  GatewayIntentBits.GuildMessages,
  GatewayIntentBits.MessageContent,
  GatewayIntentBits.DirectMessages,
  GatewayIntentBits.GuildMessageReactions,
];
/** Remembered messages and attachments: enough for the replies and uploads of the last hours. */
const MEMORY_LIMIT = 2000;
const THREAD_NAME_CHARS = 80;
const ATTACHMENT_TIMEOUT_MS = 30_000;

/** A Map that forgets its oldest entries past MEMORY_LIMIT. */
class BoundedMap<K, V> extends Map<K, V> {
  override set(key: K, value: V): this {
    super.set(key, value);
    if (this.size > MEMORY_LIMIT) this.delete(this.keys().next().value as K);
    return this;
  }
}

const failure = <T>(userText: string, logText: string, detail?: unknown): Result<T> => ({
  ok: false,
  failure: { userText, logText, detail },
});

/** Nonces are at most 25 characters: a digest of the key. */
const discordNonce = (key: string) => createHash('sha256').update(key).digest('base64url').slice(0, 25);

/** The thread's name: the start of the question, on one line. */
function threadName(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line === '') return 'rfl-onboard';
  return line.length <= THREAD_NAME_CHARS ? line : `${line.slice(0, THREAD_NAME_CHARS - 1)}…`;
}

/**
 * A message's conversation: in a thread, the thread; in a DM, the DM; in a server channel, the thread
 * the reply will start from this message (it gets the message's id).
 */
function conversationOf(channel: Channel, messageId: string): ConversationRef {
  if (channel.isThread()) return { roomId: channel.parentId ?? channel.id, threadId: channel.id };
  if (channel.isDMBased()) return { roomId: channel.id };
  return { roomId: channel.id, threadId: messageId };
}

/** An interaction's conversation: where it was used (its reply cannot start a thread). */
function interactionConversation(interaction: Interaction): ConversationRef {
  const channel = interaction.channel;
  if (channel?.isThread()) return { roomId: channel.parentId ?? channel.id, threadId: channel.id };
  return { roomId: interaction.channelId ?? 'unknown' };
}

export async function startDiscordBot(options: DiscordBotOptions): Promise<DiscordBot> {
  const { dispatcher, log, commandPrefix: prefix } = options;
  const maxMessages = options.maxMessagesPerReply;
  const client = new Client({
    intents: INTENTS,
    // DMs and messages sent before a restart arrive for uncached channels and messages.
    partials: [Partials.Channel, Partials.Message, Partials.Reaction, Partials.User],
    allowedMentions: { parse: [], repliedUser: false },
    ...(options.restUrl ? { rest: { api: options.restUrl } } : {}),
  });
  const sent = new BoundedMap<string, SentReply>();
  /** Each message the bot sent, to the first message of its reply (a long reply is several). */
  const sentIds = new BoundedMap<string, string>();
  const attachmentUrls = new BoundedMap<string, string>();
  const threadNames = new Map<string, string>();
  const openingThreads = new Map<string, Promise<SendableChannels>>();
  let botId = '';

  const logFailure = (what: string) => (error: unknown) => log.error({ err: error }, what);

  async function sendable(channelId: string): Promise<SendableChannels> {
    const channel = await client.channels.fetch(channelId);
    if (!channel?.isSendable()) throw new Error(`cannot send to channel ${channelId}`);
    return channel;
  }

  /** The thread started from message `threadId`: created on first use, the room when that fails. */
  async function openThread(roomId: string, threadId: string, name: string): Promise<SendableChannels> {
    const room = await client.channels.fetch(roomId);
    if (room?.type === ChannelType.GuildText || room?.type === ChannelType.GuildAnnouncement) {
      try {
        return await room.threads.create({
          startMessage: threadId,
          name,
          autoArchiveDuration: ThreadAutoArchiveDuration.OneDay,
        });
      } catch (error) {
        // Most often the thread exists already (a retry, a restart): it is fetched below.
        log.debug({ err: error, threadId }, 'could not start a thread');
      }
    }
    const existing = await client.channels.fetch(threadId).catch(() => null);
    if (existing?.isSendable()) return existing;
    log.warn({ roomId, threadId }, 'no thread for the reply: answering in the channel');
    return sendable(roomId);
  }

  function channelFor(conversation: ConversationRef): Promise<SendableChannels> {
    const { roomId, threadId } = conversation;
    if (!threadId) return sendable(roomId);
    const cached = client.channels.cache.get(threadId);
    if (cached?.isSendable()) return Promise.resolve(cached);
    let opening = openingThreads.get(threadId);
    if (!opening) {
      // The name is read now: the message's entry is gone once its handling ends.
      opening = openThread(roomId, threadId, threadNames.get(threadId) ?? 'rfl-onboard');
      openingThreads.set(threadId, opening);
      const forget = () => openingThreads.delete(threadId);
      opening.then(forget, forget);
    }
    return opening;
  }

  function channelDestination(conversation: ConversationRef): Destination {
    return {
      async post(payload, replyTo) {
        // The thread's first message already quotes the question; later replies point at theirs.
        const reply = replyTo && replyTo !== conversation.threadId;
        const channel = await channelFor(conversation);
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
      edit: async (messageId, payload) => (await channelFor(conversation)).messages.edit(messageId, payload),
      remove: async (messageId) => (await channelFor(conversation)).messages.delete(messageId),
    };
  }

  function interactionDestination(interaction: RepliableInteraction, ephemeral = false): Destination {
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

  function payloads(content: RichMessage, question: Question | null, editing: boolean): Payload[] {
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

  async function sendReply(
    destination: Destination,
    to: ConversationRef,
    content: RichMessage,
    replyTo: string | null,
    question: Question | null,
    idempotencyKey?: string,
  ): Promise<MessageRef> {
    const messageIds: string[] = [];
    for (const [index, payload] of payloads(content, question, false).entries()) {
      const once = idempotencyKey
        ? { nonce: discordNonce(`${idempotencyKey}#${index}`), enforceNonce: true }
        : {};
      const message = await destination.post({ ...payload, ...once }, index === 0 ? replyTo : null);
      messageIds.push(message.id);
    }
    const [first = ''] = messageIds;
    for (const id of messageIds) sentIds.set(id, first);
    sent.set(first, { destination, messageIds, question });
    return { conversation: to, messageId: first };
  }

  /** A reply sent before a restart is known by its first message only. */
  const replyOf = (ref: MessageRef): SentReply =>
    sent.get(ref.messageId) ?? {
      destination: channelDestination(ref.conversation),
      messageIds: [ref.messageId],
      question: null,
    };

  /** Edits a reply in place: its messages are edited, added or removed to fit the new text. */
  async function editReply(ref: MessageRef, content: RichMessage): Promise<void> {
    const reply = replyOf(ref);
    const next = payloads(content, reply.question, true);
    const kept: string[] = [];
    for (const [index, payload] of next.entries()) {
      const existing = reply.messageIds[index];
      if (existing) await reply.destination.edit(existing, payload);
      const id = existing ?? (await reply.destination.post(payload, null)).id;
      kept.push(id);
      sentIds.set(id, ref.messageId);
    }
    for (const extra of reply.messageIds.slice(next.length)) await reply.destination.remove(extra);
    reply.messageIds = kept;
    sent.set(ref.messageId, reply);
  }

  async function removeReply(ref: MessageRef): Promise<void> {
    const reply = replyOf(ref);
    for (const id of reply.messageIds) await reply.destination.remove(id);
    sent.delete(ref.messageId);
  }

  /** The question a reply answers, when it is a message that can be fetched again (for Retry). */
  function questionOf(to: ConversationRef, replyTo: string | undefined): Question | null {
    if (!replyTo) return null;
    const inRoom = !to.threadId || to.threadId === replyTo;
    return { channelId: inRoom ? to.roomId : to.threadId!, messageId: replyTo };
  }

  const chat: DiscordChat = {
    send: (to, content, sendOptions: SendOptions = {}) =>
      sendReply(
        channelDestination(to),
        to,
        content,
        sendOptions.replyTo ?? null,
        questionOf(to, sendOptions.replyTo),
        sendOptions.idempotencyKey,
      ),
    edit: editReply,
    remove: removeReply,
    async react(to, reaction) {
      await (await channelFor(to.conversation)).messages.react(to.messageId, reaction);
    },
    async fetch(attachment: AttachmentInfo, { maxBytes }): Promise<Result<Uint8Array>> {
      const tooLarge = () =>
        failure<Uint8Array>(
          `“${attachment.name}” is larger than ${Math.floor(maxBytes / 1024)} KB, the most I take.`,
          'refused an oversized attachment',
          { name: attachment.name, size: attachment.size, maxBytes },
        );
      const url = attachmentUrls.get(attachment.id);
      if (!url)
        return failure('I can’t see that file anymore. Please attach it again.', 'unknown attachment');
      if (attachment.size !== null && attachment.size > maxBytes) return tooLarge();
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(ATTACHMENT_TIMEOUT_MS) });
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        const chunks: Uint8Array[] = [];
        let size = 0;
        for await (const chunk of response.body) {
          size += chunk.byteLength;
          // The announced size can be wrong: the cap holds for what actually arrives.
          if (size > maxBytes) {
            await response.body.cancel().catch(() => {});
            return tooLarge();
          }
          chunks.push(chunk);
        }
        return { ok: true, value: Buffer.concat(chunks) };
      } catch (error) {
        return failure(
          `I couldn’t download “${attachment.name}”. Please try again.`,
          'attachment download failed',
          error,
        );
      }
    },
  };

  const track = (work: Promise<unknown>) => void work.catch(logFailure('a later reply failed'));
  const channelSurface: DispatchSurface = {
    platform: 'discord',
    sender: chat,
    attachments: chat,
    remover: chat,
    track,
  };

  function attachmentsOf(
    attachments: Iterable<{
      id: string;
      name: string;
      url: string;
      contentType: string | null;
      size: number;
    }>,
  ) {
    return [...attachments].map((attachment) => {
      attachmentUrls.set(attachment.id, attachment.url);
      return {
        id: attachment.id,
        name: attachment.name,
        mimeType: attachment.contentType,
        size: attachment.size,
      };
    });
  }

  /** A user's message as the router sees it; null for the bot's own messages, other bots and system ones. */
  function incoming(message: Message): IncomingMessage | null {
    if (message.author.bot || message.system) return null;
    const mention = new RegExp(`<@!?${botId}>`, 'g');
    const leading = new RegExp(`^\\s*<@!?${botId}>[\\s:,]*`);
    return {
      id: message.id,
      conversation: conversationOf(message.channel, message.id),
      author: { id: message.author.id, name: message.member?.displayName ?? message.author.displayName },
      text: message.content.replace(leading, '').replace(mention, `@${client.user?.username ?? 'bot'}`),
      isDirect: message.channel.isDMBased(),
      mentionsBot: message.mentions.users.has(botId),
      attachments: attachmentsOf(message.attachments.values()),
    };
  }

  async function onMessage(message: Message): Promise<void> {
    const question = incoming(message);
    if (!question) return;
    const { threadId } = question.conversation;
    if (threadId === message.id) threadNames.set(threadId, threadName(question.text));
    try {
      await dispatcher.message(question, channelSurface);
    } finally {
      if (threadId) threadNames.delete(threadId);
    }
  }

  /** Runs `question` through the dispatcher and answers in the interaction's (already deferred) reply. */
  async function answerInteraction(
    interaction: RepliableInteraction,
    question: IncomingMessage,
    ephemeral = false,
  ): Promise<void> {
    const destination = interactionDestination(interaction, ephemeral);
    let used = false;
    const sender: MessageSender & MessageEditor = {
      send: (to, content) => {
        used = true;
        return sendReply(destination, to, content, null, null);
      },
      edit: editReply,
    };
    const surface = { platform: 'discord' as const, sender, attachments: chat, remover: chat, track };
    // The interaction is the event: a Retry of the same message is a new one.
    await dispatcher.message(question, surface, interaction.id);
    if (!used) await interaction.deleteReply();
  }

  function interactionQuestion(interaction: Interaction, text: string, attachments: AttachmentInfo[] = []) {
    return {
      id: interaction.id,
      conversation: interactionConversation(interaction),
      author: { id: interaction.user.id, name: interaction.user.displayName },
      text,
      isDirect: interaction.guildId === null,
      mentionsBot: false,
      attachments,
    } satisfies IncomingMessage;
  }

  async function onSlashCommand(interaction: ChatInputCommandInteraction): Promise<void> {
    // Discord drops interactions not acknowledged within 3 s: defer before anything that takes time.
    await interaction.deferReply();
    const command = slashCommandText(interaction, prefix);
    if (!command) {
      await interaction.editReply({ content: `I don’t know /${interaction.commandName}. Try /ask.` });
      return;
    }
    const question = interactionQuestion(interaction, command.text, attachmentsOf(command.attachments));
    await answerInteraction(interaction, question);
  }

  async function onButton(interaction: ButtonInteraction): Promise<void> {
    const action = parseButtonId(interaction.customId);
    const ephemeral = { flags: MessageFlags.Ephemeral } as const;
    if (!action) {
      await interaction.reply({ content: 'That button no longer does anything.', ...ephemeral });
      return;
    }
    if (action.kind === 'feedback') {
      await interaction.reply({ content: 'Thanks, noted.', ...ephemeral });
      const answerId = sentIds.get(interaction.message.id) ?? interaction.message.id;
      await dispatcher.feedback(answerId, interaction.user.id, action.rating);
    } else if (action.kind === 'cancel') {
      await interaction.deferReply(ephemeral);
      await answerInteraction(
        interaction,
        interactionQuestion(interaction, `${prefix}cancel ${action.jobId}`),
        true,
      );
    } else {
      // Read before acknowledging, to refuse privately: the question is almost always in discord.js's cache.
      const channel = await client.channels.fetch(action.channelId).catch(() => null);
      const message = channel?.isTextBased()
        ? await channel.messages.fetch(action.messageId).catch(() => null)
        : null;
      const question = message && incoming(message);
      if (!question) {
        await interaction.reply({
          content: 'I can’t find that question anymore. Please ask it again.',
          ...ephemeral,
        });
        return;
      }
      // A retry runs the message as its author: nobody else may start their commands or jobs.
      if (question.author.id !== interaction.user.id) {
        await interaction.reply({
          content:
            'Only the person who asked can retry this. Ask the question yourself to get your own answer.',
          ...ephemeral,
        });
        return;
      }
      await interaction.deferReply();
      await answerInteraction(interaction, question);
    }
  }

  async function onReaction(message: Message | PartialMessage, emoji: string | null, userId: string) {
    if (!emoji || userId === botId) return;
    const authorId = message.author?.id ?? (await message.fetch()).author.id;
    if (authorId !== botId) return;
    await dispatcher.reacted(sentIds.get(message.id) ?? message.id, userId, emoji);
  }

  client.on(Events.MessageCreate, (message) => void onMessage(message).catch(logFailure('could not answer')));
  client.on(Events.InteractionCreate, (interaction) => {
    const handled = interaction.isChatInputCommand()
      ? onSlashCommand(interaction)
      : interaction.isButton()
        ? onButton(interaction)
        : Promise.resolve();
    void handled.catch(logFailure('could not handle an interaction'));
  });
  client.on(Events.MessageReactionAdd, (reaction, user) => {
    void onReaction(reaction.message, reaction.emoji.name, user.id).catch(
      logFailure('could not read a reaction'),
    );
  });
  client.on(Events.MessageUpdate, (before, after) => {
    // Discord also sends updates for embeds unfurling: only a changed text is an edit.
    if (after.partial || !after.editedTimestamp || (!before.partial && before.content === after.content))
      return;
    const edited = incoming(after);
    if (edited)
      void dispatcher
        .edited(edited, channelSurface, `${after.id}@${after.editedTimestamp}`)
        .catch(logFailure('could not re-run an edited message'));
  });
  client.on(Events.MessageDelete, (message) => {
    if (sentIds.has(message.id) || message.author?.id === botId) return;
    void dispatcher.deleted(message.id, channelSurface).catch(logFailure('could not remove a reply'));
  });
  client.on(Events.Error, logFailure('Discord client error'));

  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(options.token);
  await ready;
  botId = client.user?.id ?? '';

  const body = SLASH_COMMANDS;
  const { applicationId, guildIds } = options;
  const routes =
    guildIds.length > 0
      ? guildIds.map((guildId) => Routes.applicationGuildCommands(applicationId, guildId))
      : [Routes.applicationCommands(applicationId)];
  for (const route of routes) {
    await client.rest.put(route, { body }).catch(logFailure(`could not register slash commands at ${route}`));
  }
  log.info({ user: client.user?.tag, guilds: guildIds.length || 'global' }, 'connected to Discord');
  await dispatcher.resume(channelSurface);

  return {
    chat,
    userId: botId,
    isConnected: () => client.isReady(),
    stop: () => client.destroy(),
  };
}

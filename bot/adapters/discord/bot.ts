/**
 * The bot on Discord (discord.js v14): connects to the gateway, registers the slash commands, and wires
 * gateway events to the handlers (handlers.ts), which hand them to the dispatcher; the dispatcher answers
 * through the surface (surface.ts), whose messages go where channels.ts says. Messages that are for the
 * bot (prefix commands, mentions, DMs) are asked; in a server channel the reply starts a thread from the
 * user's message. Rate limits (429) are discord.js's: it waits `Retry-After` and sends again.
 */
import { Client, Events, GatewayIntentBits, Partials } from 'discord.js';
import type { Logger } from '../../../config/logger.ts';
import type { Dispatcher } from '../../dispatch/dispatcher.ts';
import { DiscordChannels } from './channels.ts';
import { DiscordHandlers } from './handlers.ts';
import type { DiscordSelf } from './intake.ts';
import { AttachmentUrls, SentReplies } from './memory.ts';
import { registerSlashCommands } from './slash-commands.ts';
import { createDiscordSurface, type DiscordChat, discordDispatchSurface } from './surface.ts';

export type { DiscordChat } from './surface.ts';

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
  /**
   * Discord's REST API without the version (discord.apiBaseUrl), discord.js's `https://discord.com/api`
   * when absent; the gateway's URL is what its GET /gateway/bot answers.
   */
  apiBaseUrl?: string;
  /** Replies needing more messages than this go as one message plus an attached file. */
  maxMessagesPerReply?: number;
}

export interface DiscordBot {
  /** What the bot can do in any conversation, outside a reply too. */
  chat: DiscordChat;
  userId: string;
  /** Connected to the gateway now (for /readyz). */
  isConnected(): boolean;
  stop(): Promise<void>;
}

/** Discord sends only the events of the intents identified with: each is here for a feature. */
const INTENTS = [
  // The servers' channels and threads (discord.js's cache), and the threads the answers open.
  GatewayIntentBits.Guilds,
  // Questions, edits and deletions in server channels and threads.
  GatewayIntentBits.GuildMessages,
  // Privileged: the text of a server message that does not mention the bot (a `!ask` in a channel).
  GatewayIntentBits.MessageContent,
  // Questions, edits and deletions in DMs.
  GatewayIntentBits.DirectMessages,
  // 👍/👎 feedback (and ✅ on a digest) in servers, and in DMs.
  GatewayIntentBits.GuildMessageReactions,
  GatewayIntentBits.DirectMessageReactions,
];

export async function startDiscordBot(options: DiscordBotOptions): Promise<DiscordBot> {
  const { dispatcher, log } = options;
  const client = new Client({
    intents: INTENTS,
    // DMs and messages sent before a restart arrive for uncached channels and messages.
    partials: [Partials.Channel, Partials.Message, Partials.Reaction, Partials.User],
    allowedMentions: { parse: [], repliedUser: false },
    // Every message created carries an enforced nonce: when a response is lost (a connection reset after
    // Discord created the message), discord.js sends the same body again and Discord returns the message
    // it has instead of posting it twice. discord.js makes one per send unless the surface gives one
    // derived from the dispatcher's idempotency key (surface.ts), which also holds across a restart.
    enforceNonce: true,
    ...(options.apiBaseUrl ? { rest: { api: options.apiBaseUrl } } : {}),
  });
  /** The bot's user id, once connected. */
  let botId = '';
  const self: DiscordSelf = {
    get id() {
      return botId;
    },
    get username() {
      return client.user?.username ?? 'bot';
    },
  };
  const channels = new DiscordChannels(client, log);
  const replies = new SentReplies();
  const attachmentUrls = new AttachmentUrls();
  const surface = createDiscordSurface({
    channels,
    replies,
    attachmentUrls,
    maxMessagesPerReply: options.maxMessagesPerReply,
  });
  const dispatchSurface = discordDispatchSurface(surface, log);
  const handlers = new DiscordHandlers({
    client,
    dispatcher,
    commandPrefix: options.commandPrefix,
    self,
    surface,
    dispatchSurface,
    channels,
    replies,
    attachmentUrls,
  });

  const logFailure = (what: string) => (error: unknown) => log.error({ err: error }, what);
  client.on(
    Events.MessageCreate,
    (message) => void handlers.message(message).catch(logFailure('could not answer')),
  );
  client.on(Events.InteractionCreate, (interaction) => {
    void handlers.interaction(interaction).catch(logFailure('could not handle an interaction'));
  });
  client.on(Events.MessageReactionAdd, (reaction, user) => {
    void handlers
      .reaction(reaction.message, reaction.emoji.name, user.id)
      .catch(logFailure('could not read a reaction'));
  });
  client.on(Events.MessageUpdate, (before, after) => {
    void handlers.edited(before, after).catch(logFailure('could not re-run an edited message'));
  });
  client.on(Events.MessageDelete, (message) => {
    void handlers.deleted(message).catch(logFailure('could not remove a reply'));
  });
  client.on(Events.Error, logFailure('Discord client error'));

  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(options.token);
  await ready;
  botId = client.user?.id ?? '';

  await registerSlashCommands(client, options.applicationId, options.guildIds, log);
  log.info({ user: client.user?.tag, guilds: options.guildIds.length || 'global' }, 'connected to Discord');
  await dispatcher.resume(dispatchSurface);

  return {
    chat: surface,
    userId: botId,
    isConnected: () => client.isReady(),
    stop: () => client.destroy(),
  };
}

/**
 * The JSON shapes of Discord API v10 objects the fake serves (users, guilds, channels, messages,
 * attachments, interactions), written from the API reference, with only the fields the docs mark required
 * plus those discord.js reads. Plain records: the fake stores and mutates them like Discord's own state.
 */

/** Gateway opcodes (Opcodes and Status Codes, "Gateway Opcodes"). */
export const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  Resume: 6,
  Reconnect: 7,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const;

/** The gateway intents of the events the fake dispatches (Gateway, "List of Intents"). */
export const Intent = {
  Guilds: 1 << 0,
  GuildMessages: 1 << 9,
  GuildMessageReactions: 1 << 10,
  DirectMessages: 1 << 12,
  DirectMessageReactions: 1 << 13,
  MessageContent: 1 << 15,
} as const;

export const ChannelType = { GuildText: 0, DM: 1, PublicThread: 11 } as const;
export const MessageType = { Default: 0, Reply: 19, ChatInputCommand: 20 } as const;
export const MessageFlag = { HasThread: 1 << 5, Ephemeral: 1 << 6, Loading: 1 << 7 } as const;
export const InteractionType = { ApplicationCommand: 2, MessageComponent: 3 } as const;
/** Interaction callback types (Receiving and Responding, "Interaction Callback Type"). */
export const CallbackType = {
  ChannelMessageWithSource: 4,
  DeferredChannelMessageWithSource: 5,
  DeferredUpdateMessage: 6,
  UpdateMessage: 7,
} as const;
/** Application command option types. */
export const OptionType = { String: 3, Boolean: 5, Attachment: 11 } as const;

export type Json = Record<string, unknown>;

const DISCORD_EPOCH = 1420070400000n;
let lastSnowflake = 0n;

/** Ids as Discord makes them: milliseconds since 2015 in the top bits, so they sort by creation. */
export function snowflake(): string {
  let next = (BigInt(Date.now()) - DISCORD_EPOCH) << 22n;
  if (next <= lastSnowflake) next = lastSnowflake + 1n;
  lastSnowflake = next;
  return next.toString();
}

export interface UserObject extends Json {
  id: string;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: null;
  bot: boolean;
}

export function userObject(username: string, bot = false): UserObject {
  return { id: snowflake(), username, discriminator: '0', global_name: username, avatar: null, bot };
}

export interface ChannelObject extends Json {
  id: string;
  type: number;
  guild_id?: string;
  parent_id?: string | null;
  name?: string;
  recipients?: UserObject[];
}

export function textChannel(guildId: string, name: string): ChannelObject {
  return {
    id: snowflake(),
    type: ChannelType.GuildText,
    guild_id: guildId,
    name,
    position: 0,
    permission_overwrites: [],
    parent_id: null,
    topic: null,
    nsfw: false,
    rate_limit_per_user: 0,
    last_message_id: null,
  };
}

export function dmChannel(recipient: UserObject): ChannelObject {
  return { id: snowflake(), type: ChannelType.DM, recipients: [recipient], last_message_id: null };
}

/** A public thread started from a message: it has the message's id (Message Flags, HAS_THREAD). */
export function threadChannel(
  parent: ChannelObject,
  startMessageId: string,
  owner: UserObject,
  name: string,
  autoArchiveMinutes: number,
): ChannelObject {
  const now = new Date().toISOString();
  return {
    id: startMessageId,
    type: ChannelType.PublicThread,
    guild_id: parent.guild_id,
    parent_id: parent.id,
    owner_id: owner.id,
    name,
    rate_limit_per_user: 0,
    message_count: 0,
    member_count: 1,
    total_message_sent: 0,
    flags: 0,
    last_message_id: null,
    thread_metadata: {
      archived: false,
      auto_archive_duration: autoArchiveMinutes,
      archive_timestamp: now,
      locked: false,
      create_timestamp: now,
    },
  };
}

export function guildMember(user: UserObject): Json {
  return {
    user,
    nick: null,
    roles: [],
    joined_at: new Date().toISOString(),
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
  };
}

/** The GUILD_CREATE payload: a whole available guild. */
export function guildObject(id: string, name: string, owner: UserObject, channels: ChannelObject[]): Json {
  return {
    id,
    name,
    icon: null,
    owner_id: owner.id,
    unavailable: false,
    joined_at: new Date().toISOString(),
    large: false,
    member_count: 1,
    features: [],
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    mfa_level: 0,
    premium_tier: 0,
    preferred_locale: 'en-US',
    system_channel_flags: 0,
    nsfw_level: 0,
    roles: [
      {
        id,
        name: '@everyone',
        color: 0,
        hoist: false,
        position: 0,
        permissions: '1071698660929',
        managed: false,
        mentionable: false,
        flags: 0,
      },
    ],
    emojis: [],
    stickers: [],
    members: [guildMember(owner)],
    channels,
    threads: [],
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

export interface AttachmentObject extends Json {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type?: string;
}

export interface MessageObject extends Json {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: UserObject;
  content: string;
  timestamp: string;
  edited_timestamp: string | null;
  mentions: UserObject[];
  attachments: AttachmentObject[];
  components: Json[];
  flags: number;
  type: number;
  /** The nonce of the Create Message request, echoed in MESSAGE_CREATE. */
  nonce?: string | number;
}

export function messageObject(
  channel: ChannelObject,
  author: UserObject,
  content: string,
  extra: Partial<MessageObject> = {},
): MessageObject {
  return {
    id: snowflake(),
    channel_id: channel.id,
    ...(channel.guild_id ? { guild_id: channel.guild_id } : {}),
    author,
    content,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    components: [],
    pinned: false,
    flags: 0,
    type: MessageType.Default,
    ...extra,
  };
}

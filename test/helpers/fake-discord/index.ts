/**
 * A loopback Discord for tests: the REST API v10 routes the bot uses, a CDN route for attachments and a
 * gateway (gateway.ts), over one HTTP server. Tests act as users (say, edit, delete, react, run a slash
 * command, press a button) and assert on what the bot sent: every request is recorded.
 * Point the bot at it with `discord.apiBaseUrl` (`fake.apiBaseUrl`); GET /gateway/bot hands out the ws:// URL.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeGateway } from './gateway.ts';
import {
  type AttachmentObject,
  CallbackType,
  type ChannelObject,
  ChannelType,
  dmChannel,
  guildMember,
  guildObject,
  Intent,
  InteractionType,
  type Json,
  MessageFlag,
  type MessageObject,
  MessageType,
  messageObject,
  OptionType,
  snowflake,
  textChannel,
  threadChannel,
  type UserObject,
  userObject,
} from './objects.ts';

export interface RecordedRequest {
  method: string;
  /** Without the `/api/v10` prefix: `/channels/1/messages`. */
  path: string;
  query: URLSearchParams;
  /** The JSON body, or a multipart request's `payload_json`. */
  body: Json | null;
  files: { name: string; data: Buffer; contentType: string }[];
  at: number;
  /** 0: the connection was reset before the response (loseResponseNext). */
  status: number;
}

interface Interaction {
  id: string;
  token: string;
  channel: ChannelObject;
  user: UserObject;
  createdAt: number;
  acknowledgedAt: number | null;
  originalMessageId: string | null;
}

interface RequestMatch {
  method: string;
  path: RegExp;
}

interface RateLimit extends RequestMatch {
  retryAfterSeconds: number;
}

type Reply = { status: number; body?: unknown };
type Handler = (request: RecordedRequest, match: RegExpExecArray) => Reply;

const API_PREFIX = '/api/v10';
const json = (status: number, body?: unknown): Reply => ({ status, body });
const notFound = (what: string, code: number) => json(404, { message: `Unknown ${what}`, code });
/** How long an enforced nonce is unique: "the past few minutes" (Create Message, `enforce_nonce`). */
const NONCE_WINDOW_MS = 5 * 60_000;
/** Create Message's `nonce` is "up to 25 characters". */
const MAX_NONCE_CHARS = 25;

export class FakeDiscord {
  readonly token = 'fake-bot-token';
  readonly applicationId = snowflake();
  readonly botUser: UserObject = userObject('rfl-onboard', true);
  readonly guildId = snowflake();
  /** The guild's text channel where newcomers ask. */
  readonly channel: ChannelObject = textChannel(this.guildId, 'help');
  readonly requests: RecordedRequest[] = [];
  /** Attachment downloads, by URL path. */
  readonly cdnHits: string[] = [];
  /** Slash commands registered, by guild id (`global` for application-wide). */
  readonly commands = new Map<string, Json[]>();
  readonly gateway: FakeGateway;

  readonly #http: Server;
  readonly #channels = new Map<string, ChannelObject>([[this.channel.id, this.channel]]);
  readonly #messages = new Map<string, MessageObject>();
  readonly #files = new Map<string, { data: Uint8Array; contentType: string }>();
  readonly #interactions = new Map<string, Interaction>();
  readonly #rateLimits: RateLimit[] = [];
  readonly #lostResponses: RequestMatch[] = [];
  /** Messages created with an enforced nonce, by author and nonce. */
  readonly #nonces = new Map<string, { messageId: string; at: number }>();
  readonly #waiters = new Set<() => void>();
  readonly #routes: [string, RegExp, Handler][];
  #origin = '';

  private constructor() {
    this.#http = createServer((request, response) => void this.#serve(request, response));
    this.gateway = new FakeGateway(this.#http, {
      token: this.token,
      user: this.botUser,
      applicationId: this.applicationId,
      guilds: () => [this.#guild()],
    });
    this.#routes = this.#routeTable();
  }

  static async start(): Promise<FakeDiscord> {
    const fake = new FakeDiscord();
    await new Promise<void>((resolve) => fake.#http.listen(0, '127.0.0.1', resolve));
    fake.#origin = `http://127.0.0.1:${(fake.#http.address() as AddressInfo).port}`;
    fake.gateway.url = `${fake.#origin.replace('http', 'ws')}/gateway`;
    return fake;
  }

  /** The REST API's base without the version, for `discord.apiBaseUrl` (discord.js's `rest.api`). */
  get apiBaseUrl(): string {
    return `${this.#origin}/api`;
  }

  async close(): Promise<void> {
    this.gateway.close();
    this.#http.closeAllConnections();
    await new Promise((resolve) => this.#http.close(resolve));
  }

  // ---- Acting as users -------------------------------------------------------------------------

  user(name: string): UserObject {
    return userObject(name);
  }

  /** A DM channel between the bot and `user`. */
  dm(user: UserObject): ChannelObject {
    const channel = dmChannel(user);
    this.#channels.set(channel.id, channel);
    return channel;
  }

  /** Puts a file on the CDN, as Discord does with an upload, and returns its attachment object. */
  upload(channelId: string, filename: string, data: Uint8Array, contentType?: string): AttachmentObject {
    const id = snowflake();
    const url = `${this.#origin}/attachments/${channelId}/${id}/${encodeURIComponent(filename)}`;
    this.#files.set(new URL(url).pathname, { data, contentType: contentType ?? 'application/octet-stream' });
    return {
      id,
      filename,
      size: data.byteLength,
      url,
      proxy_url: url,
      ...(contentType ? { content_type: contentType } : {}),
    };
  }

  /** A user posts a message; `<@id>` in the content mentions that user, as in Discord's markup. */
  say(channelId: string, author: UserObject, content: string, attachments: AttachmentObject[] = []) {
    const channel = this.#channel(channelId);
    const mentions = [...content.matchAll(/<@!?(\d+)>/g)]
      .filter((match) => match[1] === this.botUser.id)
      .map(() => this.botUser);
    const message = messageObject(channel, author, content, { mentions, attachments });
    this.#messages.set(message.id, message);
    this.#dispatchMessage('MESSAGE_CREATE', message, channel);
    return message;
  }

  edit(messageId: string, content: string): MessageObject {
    const message = this.#message(messageId);
    message.content = content;
    message.edited_timestamp = new Date().toISOString();
    this.#dispatchMessage('MESSAGE_UPDATE', message, this.#channel(message.channel_id));
    return message;
  }

  remove(messageId: string): void {
    const message = this.#message(messageId);
    this.#messages.delete(messageId);
    const channel = this.#channel(message.channel_id);
    const data = {
      id: messageId,
      channel_id: channel.id,
      ...(channel.guild_id ? { guild_id: channel.guild_id } : {}),
    };
    this.gateway.dispatch('MESSAGE_DELETE', data, this.#messageIntent(channel));
  }

  react(messageId: string, user: UserObject, emoji: string): void {
    const message = this.#message(messageId);
    const channel = this.#channel(message.channel_id);
    this.gateway.dispatch(
      'MESSAGE_REACTION_ADD',
      {
        user_id: user.id,
        channel_id: channel.id,
        message_id: messageId,
        ...(channel.guild_id ? { guild_id: channel.guild_id, member: guildMember(user) } : {}),
        emoji: { id: null, name: emoji },
        message_author_id: message.author.id,
        burst: false,
        type: 0,
      },
      channel.guild_id ? Intent.GuildMessageReactions : Intent.DirectMessageReactions,
    );
  }

  /** A user runs a slash command; returns the interaction's id. */
  slashCommand(
    channelId: string,
    user: UserObject,
    name: string,
    options: { name: string; value: string | boolean | AttachmentObject }[],
  ): string {
    const attachments = options.flatMap(({ value }) => (typeof value === 'object' ? [value] : []));
    const registered = [...this.commands.values()].flat().find((command) => command.name === name);
    return this.#interact(channelId, user, InteractionType.ApplicationCommand, {
      id: registered?.id ?? snowflake(),
      name,
      type: 1,
      options: options.map(({ name: optionName, value }) => ({
        name: optionName,
        type:
          typeof value === 'object'
            ? OptionType.Attachment
            : typeof value === 'boolean'
              ? OptionType.Boolean
              : OptionType.String,
        value: typeof value === 'object' ? value.id : value,
      })),
      ...(attachments.length > 0
        ? { resolved: { attachments: Object.fromEntries(attachments.map((a) => [a.id, a])) } }
        : {}),
    });
  }

  /** A user presses a button of a message; returns the interaction's id. */
  pressButton(messageId: string, user: UserObject, customId: string): string {
    const message = this.#message(messageId);
    return this.#interact(
      message.channel_id,
      user,
      InteractionType.MessageComponent,
      { custom_id: customId, component_type: 2 },
      message,
    );
  }

  // ---- Inspecting what the bot did -------------------------------------------------------------

  /** The next `method path` request matching `path` (and `test`), waiting for it if need be. */
  async waitForRequest(
    method: string,
    path: RegExp,
    options: { after?: number; timeoutMs?: number; test?: (request: RecordedRequest) => boolean } = {},
  ): Promise<RecordedRequest> {
    const find = () =>
      this.requests
        .slice(options.after ?? 0)
        .find((r) => r.method === method && path.test(r.path) && (options.test?.(r) ?? true));
    return this.#waitUntil(find, options.timeoutMs ?? 5000, `${method} ${path}`);
  }

  /** Resolves once `check` returns something (checked on every request and every 10 ms). */
  async waitFor<T>(check: () => T | undefined | null | false, timeoutMs = 5000, what = 'a condition') {
    return this.#waitUntil(check, timeoutMs, what);
  }

  message(messageId: string): MessageObject | undefined {
    return this.#messages.get(messageId);
  }

  /** Messages of a channel (or thread), oldest first. */
  messagesIn(channelId: string): MessageObject[] {
    return [...this.#messages.values()].filter((message) => message.channel_id === channelId);
  }

  channelById(channelId: string): ChannelObject | undefined {
    return this.#channels.get(channelId);
  }

  interaction(id: string): Readonly<Interaction> | undefined {
    return this.#interactions.get(id);
  }

  /** Answers the next matching request with a 429 (Rate Limits, "Exceeding A Rate Limit"). */
  rateLimitNext(method: string, path: RegExp, retryAfterSeconds: number): void {
    this.#rateLimits.push({ method, path, retryAfterSeconds });
  }

  /**
   * Handles the next matching request, then resets its connection before answering: the client cannot
   * tell whether it took effect, as after a network failure.
   */
  loseResponseNext(method: string, path: RegExp): void {
    this.#lostResponses.push({ method, path });
  }

  // ---- Internals -------------------------------------------------------------------------------

  #waitUntil<T>(check: () => T | undefined | null | false, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const poll = () => {
        const found = check();
        if (!found) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake Discord: timed out waiting for ${what}`));
      }, timeoutMs);
      // Also polled on a timer: conditions on the bot's side change without a request.
      const ticker = setInterval(poll, 10);
      const cleanup = () => {
        clearTimeout(timer);
        clearInterval(ticker);
        this.#waiters.delete(poll);
      };
      this.#waiters.add(poll);
      poll();
    });
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #guild(): Json {
    const channels = [...this.#channels.values()].filter(
      (c) => c.guild_id && c.type !== ChannelType.PublicThread,
    );
    const guild = guildObject(this.guildId, 'Rust for Linux', this.botUser, channels);
    guild.threads = [...this.#channels.values()].filter((c) => c.type === ChannelType.PublicThread);
    return guild;
  }

  #channel(id: string): ChannelObject {
    const channel = this.#channels.get(id);
    if (!channel) throw new Error(`fake Discord: no channel ${id}`);
    return channel;
  }

  #message(id: string): MessageObject {
    const message = this.#messages.get(id);
    if (!message) throw new Error(`fake Discord: no message ${id}`);
    return message;
  }

  #messageIntent(channel: ChannelObject): number {
    return channel.guild_id ? Intent.GuildMessages : Intent.DirectMessages;
  }

  /**
   * Without the Message Content intent, guild messages arrive with empty content, attachments and
   * components, except the bot's own and those mentioning it (Gateway, "Message Content Intent").
   */
  #dispatchMessage(event: string, message: MessageObject, channel: ChannelObject): void {
    const exempt =
      !channel.guild_id ||
      message.author.id === this.botUser.id ||
      message.mentions.some((user) => user.id === this.botUser.id);
    // Message Create/Update events carry the channel's type and, in a guild, the author's member.
    const { user: _, ...member } = guildMember(message.author);
    const data = { ...message, channel_type: channel.type, ...(channel.guild_id ? { member } : {}) };
    const redacted = exempt
      ? undefined
      : { ...data, content: '', attachments: [], embeds: [], components: [] };
    this.gateway.dispatch(event, data, this.#messageIntent(channel), redacted);
    this.#notify();
  }

  #interact(channelId: string, user: UserObject, type: number, data: Json, message?: MessageObject): string {
    const channel = this.#channel(channelId);
    const interaction: Interaction = {
      id: snowflake(),
      token: `interaction-token-${snowflake()}`,
      channel,
      user,
      createdAt: Date.now(),
      acknowledgedAt: null,
      originalMessageId: null,
    };
    this.#interactions.set(interaction.id, interaction);
    const inGuild = Boolean(channel.guild_id);
    this.gateway.dispatch(
      'INTERACTION_CREATE',
      {
        id: interaction.id,
        application_id: this.applicationId,
        type,
        data,
        ...(inGuild
          ? { guild_id: channel.guild_id, member: { ...guildMember(user), permissions: '0' } }
          : { user }),
        channel_id: channel.id,
        channel,
        token: interaction.token,
        version: 1,
        ...(message ? { message } : {}),
        app_permissions: '1071698660929',
        locale: 'en-US',
        ...(inGuild ? { guild_locale: 'en-US' } : {}),
        entitlements: [],
        authorizing_integration_owners: inGuild ? { '0': channel.guild_id } : { '1': user.id },
        context: inGuild ? 0 : 1,
        attachment_size_limit: 10 * 1024 * 1024,
      },
      0,
    );
    return interaction.id;
  }

  /** Creates a message as the bot (or an interaction's webhook) from a create-message body. */
  #createMessage(channel: ChannelObject, request: RecordedRequest, extra: Partial<MessageObject> = {}) {
    const body = request.body ?? {};
    const reference = body.message_reference as { message_id: string } | undefined;
    const message = messageObject(channel, this.botUser, String(body.content ?? ''), {
      components: (body.components as Json[] | undefined) ?? [],
      attachments: this.#uploads(channel, request),
      flags: Number(body.flags ?? 0),
      ...(body.nonce !== undefined ? { nonce: body.nonce as string | number } : {}),
      ...(reference
        ? {
            type: MessageType.Reply,
            message_reference: { ...reference, channel_id: channel.id },
            referenced_message: this.#messages.get(reference.message_id) ?? null,
          }
        : {}),
      ...extra,
    });
    this.#messages.set(message.id, message);
    this.#dispatchMessage('MESSAGE_CREATE', message, channel);
    return message;
  }

  /**
   * Create Message with `enforce_nonce`: a message of the same author with the same nonce in the past few
   * minutes is returned, and none is created.
   */
  #onceByNonce(request: RecordedRequest, create: () => MessageObject): MessageObject {
    const nonce = request.body?.nonce;
    if (nonce === undefined || request.body?.enforce_nonce !== true) return create();
    const key = `${this.botUser.id}:${String(nonce)}`;
    const earlier = this.#nonces.get(key);
    const existing =
      earlier && Date.now() - earlier.at < NONCE_WINDOW_MS && this.#messages.get(earlier.messageId);
    if (existing) return existing;
    const message = create();
    this.#nonces.set(key, { messageId: message.id, at: Date.now() });
    return message;
  }

  #editMessage(message: MessageObject, request: RecordedRequest): MessageObject {
    const body = request.body ?? {};
    if ('content' in body) message.content = String(body.content ?? '');
    if ('components' in body) message.components = (body.components as Json[] | null) ?? [];
    if ('attachments' in body || request.files.length > 0) {
      const kept = ((body.attachments as { id: string }[] | undefined) ?? []).map((a) => String(a.id));
      message.attachments = [
        ...message.attachments.filter((a) => kept.includes(a.id)),
        ...this.#uploads(this.#channel(message.channel_id), request),
      ];
    }
    message.flags &= ~MessageFlag.Loading;
    message.edited_timestamp = new Date().toISOString();
    this.#dispatchMessage('MESSAGE_UPDATE', message, this.#channel(message.channel_id));
    return message;
  }

  /** Files of a multipart request become attachments served from the CDN route. */
  #uploads(channel: ChannelObject, request: RecordedRequest): AttachmentObject[] {
    return request.files.map((file) => this.upload(channel.id, file.name, file.data, file.contentType));
  }

  #webhookInteraction(applicationId: string, token: string): Interaction | null {
    if (applicationId !== this.applicationId) return null;
    return [...this.#interactions.values()].find((i) => i.token === token) ?? null;
  }

  #routeTable(): [string, RegExp, Handler][] {
    const channelMessage = (channelId: string, messageId: string) => {
      const message = this.#messages.get(messageId);
      return message && message.channel_id === channelId ? message : null;
    };
    return [
      [
        'GET',
        /^\/gateway\/bot$/,
        () =>
          json(200, {
            url: this.gateway.url,
            shards: 1,
            session_start_limit: { total: 1000, remaining: 999, reset_after: 14400000, max_concurrency: 1 },
          }),
      ],
      ['GET', /^\/users\/@me$/, () => json(200, this.botUser)],
      [
        'GET',
        /^\/channels\/(\d+)$/,
        (_, [, id]) => {
          const channel = this.#channels.get(id!);
          return channel ? json(200, channel) : notFound('Channel', 10003);
        },
      ],
      [
        'POST',
        /^\/channels\/(\d+)\/messages$/,
        (request, [, id]) => {
          const channel = this.#channels.get(id!);
          if (!channel) return notFound('Channel', 10003);
          const nonce = request.body?.nonce;
          if (nonce !== undefined && String(nonce).length > MAX_NONCE_CHARS) {
            return json(400, { message: 'Invalid Form Body', code: 50035, errors: { nonce: {} } });
          }
          return json(
            200,
            this.#onceByNonce(request, () => this.#createMessage(channel, request)),
          );
        },
      ],
      [
        'GET',
        /^\/channels\/(\d+)\/messages\/(\d+)$/,
        (_, [, channelId, messageId]) => {
          const message = channelMessage(channelId!, messageId!);
          return message ? json(200, message) : notFound('Message', 10008);
        },
      ],
      [
        'PATCH',
        /^\/channels\/(\d+)\/messages\/(\d+)$/,
        (request, [, channelId, messageId]) => {
          const message = channelMessage(channelId!, messageId!);
          if (!message) return notFound('Message', 10008);
          if (message.author.id !== this.botUser.id) {
            return json(403, { message: 'Cannot edit a message authored by another user', code: 50005 });
          }
          return json(200, this.#editMessage(message, request));
        },
      ],
      [
        'DELETE',
        /^\/channels\/(\d+)\/messages\/(\d+)$/,
        (_, [, channelId, messageId]) => {
          if (!channelMessage(channelId!, messageId!)) return notFound('Message', 10008);
          this.remove(messageId!);
          return json(204);
        },
      ],
      [
        'POST',
        /^\/channels\/(\d+)\/messages\/(\d+)\/threads$/,
        (request, [, channelId, messageId]) => {
          const parent = this.#channels.get(channelId!);
          const message = channelMessage(channelId!, messageId!);
          if (!parent || !message) return notFound('Message', 10008);
          if (this.#channels.has(messageId!)) {
            return json(400, { message: 'A thread has already been created for this message', code: 160004 });
          }
          const body = request.body ?? {};
          const name = String(body.name ?? '');
          if (name.length < 1 || name.length > 100) {
            return json(400, { message: 'Invalid Form Body', code: 50035, errors: { name: {} } });
          }
          const thread = threadChannel(
            parent,
            messageId!,
            this.botUser,
            name,
            Number(body.auto_archive_duration ?? 4320),
          );
          this.#channels.set(thread.id, thread);
          message.flags |= MessageFlag.HasThread;
          message.thread = thread;
          this.gateway.dispatch('THREAD_CREATE', { ...thread, newly_created: true }, Intent.Guilds);
          return json(201, thread);
        },
      ],
      [
        'PUT',
        /^\/channels\/(\d+)\/messages\/(\d+)\/reactions\/([^/]+)\/@me$/,
        (_, [, channelId, messageId, emoji]) => {
          if (!channelMessage(channelId!, messageId!)) return notFound('Message', 10008);
          this.react(messageId!, this.botUser, emoji!);
          return json(204);
        },
      ],
      [
        'POST',
        /^\/interactions\/(\d+)\/([^/]+)\/callback$/,
        (request, [, id, token]) => {
          const interaction = this.#interactions.get(id!);
          if (!interaction || interaction.token !== token) return notFound('interaction', 10062);
          if (interaction.acknowledgedAt !== null) {
            return json(400, { message: 'Interaction has already been acknowledged.', code: 40060 });
          }
          interaction.acknowledgedAt = Date.now();
          const body = request.body ?? {};
          const data = (body.data as Json | undefined) ?? {};
          const type = Number(body.type);
          if (
            type === CallbackType.ChannelMessageWithSource ||
            type === CallbackType.DeferredChannelMessageWithSource
          ) {
            const loading = type === CallbackType.DeferredChannelMessageWithSource ? MessageFlag.Loading : 0;
            const original = this.#createMessage(
              interaction.channel,
              { ...request, body: { ...data, flags: Number(data.flags ?? 0) | loading } },
              { type: MessageType.ChatInputCommand, webhook_id: this.applicationId },
            );
            interaction.originalMessageId = original.id;
          }
          return json(204);
        },
      ],
      [
        'POST',
        /^\/webhooks\/(\d+)\/([^/]+)$/,
        (request, [, applicationId, token]) => {
          const interaction = this.#webhookInteraction(applicationId!, token!);
          if (!interaction) return notFound('Webhook', 10015);
          if (interaction.acknowledgedAt === null) {
            return json(400, { message: 'Interaction has not been acknowledged.', code: 40063 });
          }
          return json(200, this.#createMessage(interaction.channel, request, { webhook_id: applicationId! }));
        },
      ],
      [
        'PATCH',
        /^\/webhooks\/(\d+)\/([^/]+)\/messages\/(@original|\d+)$/,
        (request, [, applicationId, token, which]) => {
          const interaction = this.#webhookInteraction(applicationId!, token!);
          if (!interaction) return notFound('Webhook', 10015);
          const messageId = which === '@original' ? interaction.originalMessageId : which!;
          const message = messageId ? this.#messages.get(messageId) : undefined;
          return message ? json(200, this.#editMessage(message, request)) : notFound('Message', 10008);
        },
      ],
      [
        'GET',
        /^\/webhooks\/(\d+)\/([^/]+)\/messages\/(@original|\d+)$/,
        (_, [, applicationId, token, which]) => {
          const interaction = this.#webhookInteraction(applicationId!, token!);
          const messageId = which === '@original' ? interaction?.originalMessageId : which;
          const message = messageId ? this.#messages.get(messageId) : undefined;
          return message ? json(200, message) : notFound('Message', 10008);
        },
      ],
      [
        'PUT',
        /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/,
        (request, [, applicationId, guildId]) => {
          if (applicationId !== this.applicationId) return notFound('Application', 10002);
          const body = (request.body as unknown as Json[] | null) ?? [];
          const commands = body.map((command) => ({
            id: snowflake(),
            application_id: applicationId,
            ...(guildId ? { guild_id: guildId } : {}),
            version: snowflake(),
            type: 1,
            ...command,
          }));
          this.commands.set(guildId ?? 'global', commands);
          return json(200, commands);
        },
      ],
    ];
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.#origin);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    if (url.pathname.startsWith('/attachments/')) return this.#serveFile(url.pathname, response);
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      path: decodeURIComponent(
        url.pathname.slice(url.pathname.startsWith(API_PREFIX) ? API_PREFIX.length : 0),
      ),
      query: url.searchParams,
      ...(await parseBody(raw, request.headers['content-type'] ?? '')),
      at: Date.now(),
      status: 0,
    };
    const reply = this.#handle(recorded, request.headers.authorization);
    this.requests.push(recorded);
    if (this.#take(this.#lostResponses, recorded)) {
      request.socket.resetAndDestroy();
      this.#notify();
      return;
    }
    recorded.status = reply.status;
    const headers: Record<string, string> = {};
    if (reply.status === 429) {
      const seconds = (reply.body as { retry_after: number }).retry_after;
      Object.assign(headers, {
        'retry-after': String(Math.ceil(seconds)),
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset-after': String(seconds),
        'x-ratelimit-bucket': 'fake-bucket',
        'x-ratelimit-scope': 'user',
      });
    }
    if (reply.body !== undefined) headers['content-type'] = 'application/json';
    response.writeHead(reply.status, headers);
    response.end(reply.body === undefined ? undefined : JSON.stringify(reply.body));
    this.#notify();
  }

  #handle(request: RecordedRequest, authorization: string | undefined): Reply {
    const limit = this.#take(this.#rateLimits, request);
    if (limit) {
      const { retryAfterSeconds } = limit;
      return json(429, {
        message: 'You are being rate limited.',
        retry_after: retryAfterSeconds,
        global: false,
      });
    }
    // Interaction callbacks and webhooks authenticate by their token in the path.
    const tokenInPath = /^\/(interactions|webhooks)\//.test(request.path);
    if (!tokenInPath && authorization !== `Bot ${this.token}`) {
      return json(401, { message: '401: Unauthorized', code: 0 });
    }
    for (const [method, pattern, handler] of this.#routes) {
      const match = pattern.exec(request.path);
      if (match && method === request.method) return handler(request, match);
    }
    return json(404, { message: '404: Not Found', code: 0 });
  }

  /** Removes and returns the first of `matches` that `request` matches. */
  #take<T extends RequestMatch>(matches: T[], request: RecordedRequest): T | undefined {
    const index = matches.findIndex((m) => m.method === request.method && m.path.test(request.path));
    return index < 0 ? undefined : matches.splice(index, 1)[0];
  }

  #serveFile(path: string, response: ServerResponse): void {
    this.cdnHits.push(path);
    const file = this.#files.get(path);
    if (!file) {
      response.writeHead(404).end();
    } else {
      response.writeHead(200, {
        'content-type': file.contentType,
        'content-length': String(file.data.byteLength),
      });
      response.end(file.data);
    }
    this.#notify();
  }
}

async function parseBody(raw: Buffer, contentType: string): Promise<Pick<RecordedRequest, 'body' | 'files'>> {
  if (raw.length === 0) return { body: null, files: [] };
  if (!contentType.startsWith('multipart/form-data')) return { body: JSON.parse(raw.toString()), files: [] };
  const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  const files: RecordedRequest['files'] = [];
  for (const [name, value] of form) {
    if (name.startsWith('files[') && typeof value !== 'string') {
      files.push({ name: value.name, data: Buffer.from(await value.arrayBuffer()), contentType: value.type });
    }
  }
  const payload = form.get('payload_json');
  return { body: typeof payload === 'string' ? JSON.parse(payload) : null, files };
}

/**
 * A loopback Zulip server for tests, written from Zulip's REST API docs and their JSON examples: POST
 * /register (a queue, and of the `realm` state its editing settings), GET /events (last_event_id
 * acknowledges, a heartbeat when nothing happens), POST /messages, GET /messages around an anchor,
 * GET/PATCH/DELETE /messages/{id} (edits refused as the organisation's settings say), moves of a
 * message or topic to another topic or channel (as a moderator makes them), reactions,
 * POST /user_uploads and the authenticated download of /user_uploads/…, errors with `code`
 * (BAD_EVENT_QUEUE_ID, BAD_REQUEST, REACTION_ALREADY_EXISTS, RATE_LIMIT_HIT with Retry-After and the
 * X-RateLimit headers), a response lost after the request took effect, and a restart that loses
 * every event queue. Tests act as users (say, react) and assert on what the client sent: every
 * request is recorded.
 *
 * Checked against zerver/openapi/zulip.yaml of zulip/zulip at 0002748a98b5 (Zulip 11.0-dev, feature
 * level 378): the fields and examples of those responses and of the message, update_message,
 * delete_message, reaction and heartbeat events, and the error schemas.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, unknown>;

export interface FakeZulipUser {
  user_id: number;
  email: string;
  full_name: string;
}

export interface RecordedRequest {
  method: string;
  /** Without the query: `/api/v1/messages`. */
  path: string;
  query: URLSearchParams;
  /** A form body's fields (a multipart body's file is in `uploads`). */
  form: URLSearchParams;
  status: number;
}

interface Queue {
  id: string;
  eventTypes: string[];
  /** Events not yet acknowledged by a poll's last_event_id. */
  events: Json[];
  nextEventId: number;
  waiting: (() => void) | null;
}

export interface FakeZulipOptions {
  bot: FakeZulipUser & { apiKey: string };
  /** Zulip answers an idle poll with a heartbeat after about a minute; tests want it sooner. */
  heartbeatMs?: number;
  /** Register's `event_queue_longpoll_timeout_seconds`: how long a client should let a poll run. */
  longpollTimeoutSeconds?: number;
  /** The organisation's message editing settings (Zulip's defaults: allowed, 600 seconds). */
  editing?: FakeEditing;
}

export interface FakeEditing {
  allowed: boolean;
  /** null: no limit. */
  limitSeconds: number | null;
}

/** Zulip lets an edit through this long past the limit (the server's edit_limit_buffer). */
const EDIT_LIMIT_BUFFER_S = 20;

const REALM_ID = 2;

/** Unicode code points of the emoji names tests react with (others get the spec's example, 🐙). */
const EMOJI_CODES: Record<string, string> = {
  '+1': '1f44d',
  thumbs_up: '1f44d',
  '-1': '1f44e',
  thumbs_down: '1f44e',
  check: '2705',
  eyes: '1f440',
};

export class FakeZulip {
  readonly #options: FakeZulipOptions;
  readonly #server: Server;
  #queues = new Map<string, Queue>();
  #queueCount = 0;
  #messageCount = 100;
  readonly #messages = new Map<number, Json>();
  /** Channel ids by name, given out as channels are first posted to. */
  readonly #streamIds = new Map<string, number>();
  readonly #uploads = new Map<string, { data: Buffer; contentType: string }>();
  /** Open long polls, cut by a restart as the real server's going away would. */
  readonly #openPolls = new Set<ServerResponse>();
  #rateLimitNext: number | null = null;
  #editing: FakeEditing;
  #resetConnectionNext = false;
  /** The next request of this method and path is carried out, then its connection cut unanswered. */
  #loseResponseTo: { method: string; path: string } | null = null;
  readonly requests: RecordedRequest[] = [];
  siteUrl = '';

  constructor(options: FakeZulipOptions) {
    this.#options = options;
    this.#editing = options.editing ?? { allowed: true, limitSeconds: 600 };
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error) => {
        response.destroy(error);
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.siteUrl = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const poll of this.#openPolls) poll.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** A server restart: every event queue is lost and open polls are cut. */
  restart(): void {
    this.#queues = new Map();
    for (const poll of this.#openPolls) poll.destroy();
    this.#openPolls.clear();
  }

  /** An administrator changes the editing settings (queues registered before are not told). */
  setEditing(editing: FakeEditing): void {
    this.#editing = editing;
  }

  /** The next API request is refused with 429 RATE_LIMIT_HIT and this Retry-After (seconds). */
  rateLimitNext(retryAfterSeconds: number): void {
    this.#rateLimitNext = retryAfterSeconds;
  }

  /** The next `method` request to `path` (/api/v1/…) is carried out, but its response is lost. */
  loseResponseTo(method: string, path: string): void {
    this.#loseResponseTo = { method, path };
  }

  /** The next API request's connection is reset before any response. */
  resetConnectionNext(): void {
    this.#resetConnectionNext = true;
  }

  get queueCount(): number {
    return this.#queueCount;
  }

  /** Every event so far acknowledged by a later poll: the bot has taken them all in. */
  get caughtUp(): boolean {
    return [...this.#queues.values()].every((queue) => queue.events.length === 0);
  }

  /** A user posts to a channel's topic (or, with `stream` null, a direct message to the bot). */
  say(user: FakeZulipUser, content: string, where: { stream: string; topic: string } | null): number {
    return this.#postMessage(user, content, where ? { type: 'stream', ...where } : { type: 'private' });
  }

  /** A user reacts to a message. */
  react(user: FakeZulipUser, messageId: number, emojiName: string): void {
    this.#reaction(user, messageId, emojiName);
  }

  /** A user edits their message's text. */
  edit(user: FakeZulipUser, messageId: number, content: string): void {
    this.#edit(user.user_id, messageId, content);
  }

  /**
   * A moderator moves a message to another topic and/or channel, with the messages `mode` takes along
   * (change_one: it alone; change_later: it and those after it in its topic; change_all: the whole topic),
   * optionally editing its text too. One update_message event names every moved message, as Zulip sends.
   */
  move(
    user: FakeZulipUser,
    messageId: number,
    to: { stream?: string; topic?: string },
    mode: 'change_one' | 'change_later' | 'change_all',
    content?: string,
  ): number[] {
    const message = this.#messages.get(messageId);
    if (message?.type !== 'stream') return [];
    const from = { stream: message.display_recipient as string, topic: message.subject as string };
    const moved = [...this.#messages.values()]
      .filter((other) =>
        mode === 'change_one'
          ? other === message
          : other.type === 'stream' &&
            other.display_recipient === from.stream &&
            other.subject === from.topic &&
            (mode === 'change_all' || (other.id as number) >= messageId),
      )
      .sort((a, b) => (a.id as number) - (b.id as number));
    const stream = to.stream ?? from.stream;
    const topic = to.topic ?? from.topic;
    const original = message.content as string;
    for (const other of moved) {
      other.display_recipient = stream;
      other.stream_id = this.streamId(stream);
      other.subject = topic;
    }
    if (content !== undefined) message.content = content;
    this.#publish({
      type: 'update_message',
      user_id: user.user_id,
      edit_timestamp: Math.floor(Date.now() / 1000),
      message_id: messageId,
      message_ids: moved.map((other) => other.id),
      flags: [],
      rendering_only: false,
      // The pre-edit channel; new_stream_id only when the channel changed, subject (and topic_links) only
      // when the topic did.
      stream_id: this.streamId(from.stream),
      stream_name: from.stream,
      ...(stream !== from.stream ? { new_stream_id: this.streamId(stream) } : {}),
      propagate_mode: mode,
      orig_subject: from.topic,
      ...(topic !== from.topic ? { subject: topic, topic_links: [] } : {}),
      ...(content !== undefined
        ? {
            orig_content: original,
            orig_rendered_content: `<p>${original}</p>`,
            content,
            rendered_content: `<p>${content}</p>`,
            is_me_message: false,
          }
        : {}),
    });
    return moved.map((other) => other.id as number);
  }

  /** A message is deleted (by its author or a moderator). */
  delete(messageId: number): void {
    this.#delete(messageId);
  }

  /** A channel's id, by name. */
  streamId(name: string): number {
    if (!this.#streamIds.has(name)) this.#streamIds.set(name, this.#streamIds.size + 1);
    return this.#streamIds.get(name)!;
  }

  /** Messages posted to a channel's topic, oldest first. */
  messagesIn(stream: string, topic: string): Json[] {
    return [...this.#messages.values()].filter(
      (message) => message.display_recipient === stream && message.subject === topic,
    );
  }

  /** The direct messages the bot sent to a user, oldest first. */
  directMessagesTo(user: FakeZulipUser): Json[] {
    return [...this.#messages.values()].filter(
      (message) =>
        message.type === 'private' &&
        message.sender_id === this.#options.bot.user_id &&
        (message.display_recipient as Json[]).some((recipient) => recipient.id === user.user_id),
    );
  }

  message(id: number): Json | undefined {
    return this.#messages.get(id);
  }

  /** Store a file as if a user had uploaded it; its path, /user_uploads/…. */
  storeUpload(fileName: string, data: Buffer, contentType = 'application/octet-stream'): string {
    const path = `/user_uploads/${REALM_ID}/${(this.#uploads.size + 1).toString(16).padStart(2, '0')}/x/${fileName}`;
    this.#uploads.set(path, { data, contentType });
    return path;
  }

  #postMessage(
    sender: FakeZulipUser,
    content: string,
    to: { type: 'stream'; stream: string; topic: string } | { type: 'private'; recipients?: FakeZulipUser[] },
  ): number {
    const id = ++this.#messageCount;
    const bot = this.#options.bot;
    const participants = to.type === 'private' ? [sender, ...(to.recipients ?? [bot])] : [];
    // Fields as in the "message" event's documented example.
    const message: Json = {
      avatar_url: null,
      client: 'test',
      content,
      content_type: 'text/x-markdown',
      display_recipient:
        to.type === 'stream'
          ? to.stream
          : participants.map(({ user_id, email, full_name }) => ({
              id: user_id,
              email,
              full_name,
              is_mirror_dummy: false,
            })),
      id,
      is_me_message: false,
      reactions: [],
      recipient_id: to.type === 'stream' ? 20 : 30,
      sender_email: sender.email,
      sender_full_name: sender.full_name,
      sender_id: sender.user_id,
      sender_realm_str: 'zulip',
      subject: to.type === 'stream' ? to.topic : '',
      submessages: [],
      timestamp: Math.floor(Date.now() / 1000),
      topic_links: [],
      type: to.type,
      ...(to.type === 'stream' ? { stream_id: this.streamId(to.stream) } : {}),
    };
    this.#messages.set(id, message);
    this.#publish({ type: 'message', message, flags: [] });
    return id;
  }

  /** `to` names a channel or, as Zulip also takes, gives its id. */
  #streamName(to: string): string {
    for (const [name, id] of this.#streamIds) if (String(id) === to) return name;
    return to;
  }

  #edit(userId: number, messageId: number, content: string) {
    const message = this.#messages.get(messageId);
    if (!message) return;
    const original = message.content as string;
    message.content = content;
    this.#publish({
      type: 'update_message',
      user_id: userId,
      edit_timestamp: Math.floor(Date.now() / 1000),
      message_id: messageId,
      message_ids: [messageId],
      flags: [],
      rendering_only: false,
      // A channel message's edit names its channel (since feature level 112).
      ...(message.type === 'stream'
        ? { stream_id: message.stream_id, stream_name: message.display_recipient }
        : {}),
      orig_content: original,
      orig_rendered_content: `<p>${original}</p>`,
      content,
      rendered_content: `<p>${content}</p>`,
      is_me_message: false,
    });
  }

  #delete(messageId: number) {
    const message = this.#messages.get(messageId);
    if (!message) return;
    this.#messages.delete(messageId);
    this.#publish({
      type: 'delete_message',
      message_id: messageId,
      message_type: message.type,
      ...(message.type === 'stream' ? { stream_id: message.stream_id, topic: message.subject } : {}),
    });
  }

  /** A reaction added; false when the user had already reacted so (REACTION_ALREADY_EXISTS). */
  #reaction(user: FakeZulipUser, messageId: number, emojiName: string): boolean {
    const reactions = (this.#messages.get(messageId)?.reactions ?? []) as Json[];
    if (reactions.some((reaction) => reaction.user_id === user.user_id && reaction.emoji_name === emojiName))
      return false;
    const emoji = {
      emoji_name: emojiName,
      emoji_code: EMOJI_CODES[emojiName] ?? '1f419',
      reaction_type: 'unicode_emoji',
    };
    reactions.push({ ...emoji, user_id: user.user_id });
    const { user_id, email, full_name } = user;
    this.#publish({
      type: 'reaction',
      op: 'add',
      user_id,
      // Deprecated, yet still in the documented example.
      user: { user_id, email, full_name },
      message_id: messageId,
      ...emoji,
    });
    return true;
  }

  #publish(event: Json) {
    for (const queue of this.#queues.values()) {
      if (!queue.eventTypes.includes(event.type as string)) continue;
      queue.events.push({ ...event, id: queue.nextEventId++ });
      queue.waiting?.();
    }
  }

  async #handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? '/', this.siteUrl);
    const body = await this.#readBody(request);
    const record: RecordedRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      form: new URLSearchParams(),
      status: 0,
    };
    this.requests.push(record);
    if (this.#resetConnectionNext) {
      this.#resetConnectionNext = false;
      response.destroy();
      return;
    }
    const lose = this.#loseResponseTo;
    const lost = lose?.method === record.method && lose.path === record.path;
    if (lost) this.#loseResponseTo = null;
    const reply = (status: number, json: Json, headers: Record<string, string> = {}) => {
      record.status = status;
      if (lost) return void response.destroy();
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(json));
    };
    if (!this.#authorized(request)) {
      return reply(401, { code: 'INVALID_API_KEY', msg: 'Invalid API key', result: 'error' });
    }
    if (this.#rateLimitNext !== null) {
      const retryAfter = this.#rateLimitNext;
      this.#rateLimitNext = null;
      // The documented 429: the body's "retry-after" and the Retry-After and X-RateLimit-* headers.
      return reply(
        429,
        {
          code: 'RATE_LIMIT_HIT',
          msg: 'API usage exceeded rate limit',
          result: 'error',
          'retry-after': retryAfter,
        },
        {
          'retry-after': String(retryAfter),
          'x-ratelimit-limit': '200',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(Date.now() / 1000 + retryAfter),
        },
      );
    }
    if (url.pathname.startsWith('/user_uploads/') && request.method === 'GET') {
      const upload = this.#uploads.get(url.pathname);
      if (!upload) return reply(404, { code: 'BAD_REQUEST', msg: 'File not found', result: 'error' });
      record.status = 200;
      response.writeHead(200, { 'content-type': upload.contentType, 'content-length': upload.data.length });
      response.end(upload.data);
      return;
    }
    const path = url.pathname.slice('/api/v1'.length);
    const contentType = request.headers['content-type'] ?? '';
    if (contentType.startsWith('multipart/form-data')) {
      const form = await new Request(url, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      }).formData();
      // Zulip takes the one file whatever its field's name.
      const files = [...form.values()].filter((value) => value instanceof File);
      const file = files[0];
      if (path !== '/user_uploads' || files.length !== 1 || !(file instanceof File)) {
        return reply(400, { code: 'BAD_REQUEST', msg: 'You must specify a file to upload', result: 'error' });
      }
      const uploadPath = this.storeUpload(file.name, Buffer.from(await file.arrayBuffer()), file.type);
      // The documented response: `url` since feature level 272, `uri` kept for older clients.
      return reply(200, {
        result: 'success',
        msg: '',
        uri: uploadPath,
        url: uploadPath,
        filename: file.name,
      });
    }
    const form = new URLSearchParams(body.toString('utf8'));
    record.form = form;
    const messageRoute = path.split('/'); // ['', 'messages', id, 'reactions']
    const messageId = Number(messageRoute[2]);
    if (request.method === 'GET' && path === '/users/me') {
      const { user_id, email, full_name } = this.#options.bot;
      return reply(200, { result: 'success', msg: '', user_id, email, full_name, is_bot: true });
    }
    if (request.method === 'POST' && path === '/register') return reply(200, this.#register(form));
    if (request.method === 'GET' && path === '/events')
      return this.#events(url.searchParams, response, reply);
    if (request.method === 'GET' && path === '/messages')
      return reply(200, this.#messagesAfter(url.searchParams));
    if (request.method === 'POST' && path === '/messages') {
      const bot = this.#options.bot;
      const type = form.get('type');
      if (type === 'stream' || type === 'channel') {
        const id = this.#postMessage(bot, form.get('content') ?? '', {
          type: 'stream',
          stream: this.#streamName(form.get('to') ?? ''),
          topic: form.get('topic') ?? '',
        });
        // No automatic_new_visibility_policy: only present when the sender's topic policy changed.
        return reply(200, { id, msg: '', result: 'success' });
      }
      const userIds: number[] = JSON.parse(form.get('to') ?? '[]');
      const recipients = userIds.map((user_id) => ({
        user_id,
        email: `user${user_id}@zulip.test`,
        full_name: '',
      }));
      const id = this.#postMessage(bot, form.get('content') ?? '', { type: 'private', recipients });
      return reply(200, { id, msg: '', result: 'success' });
    }
    if (messageRoute[1] !== 'messages' || !this.#messages.has(messageId)) {
      return reply(400, { code: 'BAD_REQUEST', msg: 'Invalid message(s)', result: 'error' });
    }
    if (request.method === 'GET' && messageRoute.length === 3) {
      const message = this.#messages.get(messageId)!;
      return reply(200, {
        result: 'success',
        msg: '',
        message: { ...message, flags: ['read'] },
        raw_content: message.content,
      });
    }
    if (request.method === 'PATCH' && messageRoute.length === 3) {
      const refusal = this.#editRefusal(this.#messages.get(messageId)!);
      if (refusal) return reply(400, { code: 'BAD_REQUEST', msg: refusal, result: 'error' });
      this.#edit(this.#options.bot.user_id, messageId, form.get('content') ?? '');
      return reply(200, { result: 'success', msg: '', detached_uploads: [] });
    }
    if (request.method === 'DELETE' && messageRoute.length === 3) {
      this.#delete(messageId);
      return reply(200, { result: 'success', msg: '' });
    }
    if (request.method === 'POST' && messageRoute[3] === 'reactions') {
      if (this.#reaction(this.#options.bot, messageId, form.get('emoji_name') ?? ''))
        return reply(200, { result: 'success', msg: '' });
      return reply(400, {
        code: 'REACTION_ALREADY_EXISTS',
        msg: 'Reaction already exists.',
        result: 'error',
      });
    }
    return reply(404, { code: 'BAD_REQUEST', msg: 'Not found', result: 'error' });
  }

  /**
   * GET /messages after an anchor (num_after), or the newest (anchor "newest", num_before), as the
   * documented example; of narrows only `sender` (an email) is applied.
   */
  #messagesAfter(query: URLSearchParams): Json {
    const narrow: [string, string][] = JSON.parse(query.get('narrow') ?? '[]');
    const sender = narrow.find(([operator]) => operator === 'sender')?.[1];
    if (query.get('anchor') === 'newest') {
      const newest = [...this.#messages.values()]
        .filter((message) => sender === undefined || message.sender_email === sender)
        .sort((a, b) => (a.id as number) - (b.id as number))
        .slice(-Number(query.get('num_before') ?? 0));
      const messages = newest.map((message) => ({ ...message, flags: [] }));
      // "newest" is computed: the response's anchor is the newest message's id.
      const anchor = (newest.at(-1)?.id as number | undefined) ?? 0;
      return {
        result: 'success',
        msg: '',
        anchor,
        found_anchor: messages.length > 0,
        found_newest: true,
        found_oldest: false,
        history_limited: false,
        messages,
      };
    }
    const anchor = Number(query.get('anchor'));
    const includeAnchor = query.get('include_anchor') !== 'false';
    const after = [...this.#messages.values()]
      .filter((message) => (message.id as number) > anchor || (includeAnchor && message.id === anchor))
      .sort((a, b) => (a.id as number) - (b.id as number));
    const messages = after
      .slice(0, Number(query.get('num_after') ?? 0))
      .map((message) => ({ ...message, flags: [] }));
    return {
      result: 'success',
      msg: '',
      anchor,
      found_anchor: this.#messages.has(anchor),
      found_oldest: false,
      found_newest: messages.length === after.length,
      history_limited: false,
      messages,
    };
  }

  /** Why the bot may not edit `message`'s content now (Zulip's messages for it); null: it may. */
  #editRefusal(message: Json): string | null {
    if (message.sender_id !== this.#options.bot.user_id)
      return "You don't have permission to edit this message";
    if (!this.#editing.allowed) return 'Your organization has turned off message editing';
    const { limitSeconds } = this.#editing;
    const age = Date.now() / 1000 - (message.timestamp as number);
    if (limitSeconds !== null && age > limitSeconds + EDIT_LIMIT_BUFFER_S)
      return 'The time limit for editing this message has passed';
    return null;
  }

  #register(form: URLSearchParams): Json {
    const id = `fake-queue-${++this.#queueCount}`;
    const eventTypes: string[] = JSON.parse(form.get('event_types') ?? '[]');
    // The initial state is of fetch_event_types, event_types when absent.
    const fetched: string[] = JSON.parse(form.get('fetch_event_types') ?? form.get('event_types') ?? '[]');
    this.#queues.set(id, { id, eventTypes, events: [], nextEventId: 0, waiting: null });
    // The documented response's fields for a queue, and of the `realm` state only its editing settings.
    return {
      result: 'success',
      msg: '',
      queue_id: id,
      last_event_id: -1,
      event_queue_longpoll_timeout_seconds: this.#options.longpollTimeoutSeconds ?? 90,
      zulip_version: '10.0',
      zulip_feature_level: 300,
      zulip_merge_base: '10.0',
      ...(fetched.includes('realm')
        ? {
            realm_allow_message_editing: this.#editing.allowed,
            realm_message_content_edit_limit_seconds: this.#editing.limitSeconds,
          }
        : {}),
    };
  }

  async #events(
    query: URLSearchParams,
    response: ServerResponse,
    reply: (status: number, json: Json) => void,
  ): Promise<void> {
    const queueId = query.get('queue_id') ?? '';
    const queue = this.#queues.get(queueId);
    if (!queue) {
      // The documented error for a queue the server no longer has.
      return reply(400, {
        code: 'BAD_EVENT_QUEUE_ID',
        msg: `Bad event queue ID: ${queueId}`,
        queue_id: queueId,
        result: 'error',
      });
    }
    const lastEventId = Number(query.get('last_event_id') ?? -1);
    queue.events = queue.events.filter((event) => (event.id as number) > lastEventId);
    if (queue.events.length === 0 && query.get('dont_block') !== 'true') {
      this.#openPolls.add(response);
      let wake = () => {};
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#options.heartbeatMs ?? 30_000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
        queue.waiting = wake;
        response.on('close', wake);
      });
      // A poll the client gave up on may end after its successor began waiting.
      if (queue.waiting === wake) queue.waiting = null;
      this.#openPolls.delete(response);
      if (response.destroyed) return;
      if (queue.events.length === 0) queue.events.push({ type: 'heartbeat', id: queue.nextEventId++ });
    }
    reply(200, { result: 'success', msg: '', events: queue.events });
  }

  #authorized(request: IncomingMessage): boolean {
    const { email, apiKey } = this.#options.bot;
    return request.headers.authorization === `Basic ${Buffer.from(`${email}:${apiKey}`).toString('base64')}`;
  }

  async #readBody(request: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
}

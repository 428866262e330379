/**
 * A small typed Zulip client over `fetch`: the REST calls the bot needs and the real-time event queue.
 * We write our own because the official `zulip-js` client is barely maintained: it has no types, and its
 * event loop swallows errors and never re-registers a lost queue. Here the event loop recovers on its
 * own (a new queue on BAD_EVENT_QUEUE_ID, backoff with jitter on errors, the rate limit's wait honoured),
 * errors are checked by their `code`, never by their translated `msg`, and every failure is a value.
 */
import { readFile } from 'node:fs/promises';
import type { Failure, Result } from '../../../config/result.ts';

export interface ZulipCredentials {
  /** The bot's email address, its user name for HTTP basic auth. */
  email: string;
  apiKey: string;
  /** The server's address, e.g. https://rust-for-linux.zulipchat.com. */
  site: string;
}

export type ZulipEventType = 'message' | 'update_message' | 'delete_message' | 'reaction';

/** A message as Zulip's message events and GET /messages carry it (the fields the bot reads). */
export interface ZulipMessage {
  id: number;
  sender_id: number;
  sender_email: string;
  sender_full_name: string;
  content: string;
  /** "stream" (a channel message) or "private" (a direct message). */
  type: 'stream' | 'private';
  stream_id?: number;
  /** The topic. */
  subject: string;
  /** The channel's name, or the direct message's participants. */
  display_recipient: string | { id: number; email: string; full_name: string }[];
  timestamp: number;
}

/** A message as GET /messages returns it: with the bot's flags on it ("mentioned", "read"). */
export type FlaggedMessage = ZulipMessage & { flags?: string[] };

/** Fetched messages as message events: their `id` is -1, as they come from no queue. */
const messageEvents = (messages: FlaggedMessage[]): ZulipEvent[] =>
  messages.map(({ flags, ...message }) => ({ type: 'message', id: -1, message, flags: flags ?? [] }));

export type ZulipEvent =
  | { type: 'message'; id: number; message: ZulipMessage; flags: string[] }
  | {
      type: 'update_message';
      id: number;
      message_id: number;
      message_ids: number[];
      content?: string;
      rendering_only?: boolean;
      /** Who edited (absent for edits the server makes itself, such as link previews). */
      user_id?: number;
      edit_timestamp?: number;
      /** A channel message's channel before the edit (every message in `message_ids` was there). */
      stream_id?: number;
      /** A move: the channel the messages went to (only when it changed). */
      new_stream_id?: number;
      /** A move: the topic the messages were in, and (only when it changed) the one they went to. */
      orig_subject?: string;
      subject?: string;
      /** A move: which messages went along (change_one, change_later, change_all). */
      propagate_mode?: string;
    }
  | { type: 'delete_message'; id: number; message_id?: number; message_ids?: number[] }
  | {
      type: 'reaction';
      id: number;
      op: 'add' | 'remove';
      user_id: number;
      message_id: number;
      emoji_name: string;
      emoji_code: string;
      reaction_type: string;
    }
  | { type: 'heartbeat'; id: number };

export interface EventQueue {
  queueId: string;
  lastEventId: number;
  /** How long a poll may take before the connection is presumed dead (the server's heartbeat comes sooner). */
  longpollTimeoutMs: number;
}

/** Whether the organisation lets the bot edit its messages' content, and for how long after sending. */
export interface EditPolicy {
  allowed: boolean;
  /** Seconds after sending; null: no limit. */
  limitSeconds: number | null;
}

/** For servers that predate register's event_queue_longpoll_timeout_seconds: above their heartbeat interval. */
const DEFAULT_LONGPOLL_TIMEOUT_S = 90;
/** Messages fetched per request after a lost queue (Zulip allows up to 5000). */
const CATCH_UP_BATCH = 1000;

export interface ZulipClientOptions {
  /** First wait after a failed poll; doubled per consecutive failure up to backoffMaxMs, with full jitter. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** How many times a call refused with 429 is tried again after the server's wait. */
  rateLimitRetries?: number;
  /** Told of each recovery (a new queue, a backoff), for the operator's log. */
  onRecovery?: (failure: Failure) => void;
  /** Told each time a queue is registered or polled successfully after none or a failure (for /readyz). */
  onConnected?: () => void;
}

/** The server's error codes the client acts on (Zulip's "Error handling" page: check `code`, not `msg`). */
const BAD_EVENT_QUEUE_ID = 'BAD_EVENT_QUEUE_ID';
/** Zulip's catch-all code: a message that is not there, an edit refused (too late, editing off). */
export const BAD_REQUEST = 'BAD_REQUEST';
const RATE_LIMIT_HIT = 'RATE_LIMIT_HIT';
/** Since Zulip 8 (feature level 193); BAD_REQUEST before. */
const REACTION_ALREADY_EXISTS = 'REACTION_ALREADY_EXISTS';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

const failure = (logText: string, detail?: unknown): { ok: false; failure: Failure } => ({
  ok: false,
  failure: { userText: 'Zulip did not answer as expected; please try again in a moment.', logText, detail },
});

/** A request that got no response: the server may or may not have acted on it. */
class NoResponse extends Error {}

/** Whether `failure` is of a request that got no response (a POST may have taken effect). */
export const unanswered = (failure: Failure): boolean => failure.detail instanceof NoResponse;

/** The credentials in a zuliprc file's [api] section (email, key, site), as Zulip's own tools write it. */
export function parseZuliprc(text: string): Result<ZulipCredentials> {
  const api = new Map<string, string>();
  let section = '';
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[') && line.endsWith(']')) {
      section = line.slice(1, -1).trim();
      continue;
    }
    const equals = line.indexOf('=');
    if (section === 'api' && equals > 0) api.set(line.slice(0, equals).trim(), line.slice(equals + 1).trim());
  }
  const email = api.get('email');
  const apiKey = api.get('key');
  const site = api.get('site');
  if (!email || !apiKey || !site) {
    return failure('zuliprc: the [api] section needs email, key and site');
  }
  return { ok: true, value: { email, apiKey, site } };
}

export async function readZuliprc(path: string): Promise<Result<ZulipCredentials>> {
  try {
    return parseZuliprc(await readFile(path, 'utf8'));
  } catch (error) {
    return failure(`zuliprc: cannot read ${path}`, error);
  }
}

type Body = Record<string, string | number | boolean> | FormData;

interface Response<T> {
  status: number;
  /** The JSON body: `result`, `msg`, `code` on errors, and the call's own fields. */
  json: T & { result?: string; msg?: string; code?: string; 'retry-after'?: number };
  retryAfterMs: number | null;
}

export class ZulipClient {
  readonly #authorization: string;
  readonly #origin: string;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #rateLimitRetries: number;
  readonly #onRecovery: (failure: Failure) => void;
  readonly #onConnected: () => void;
  /** Set from X-RateLimit-Remaining 0 and X-RateLimit-Reset: no request is sent before then. */
  #quietUntil = 0;
  #editPolicy: EditPolicy | null = null;

  constructor(credentials: ZulipCredentials, options: ZulipClientOptions = {}) {
    this.#authorization = `Basic ${Buffer.from(`${credentials.email}:${credentials.apiKey}`).toString('base64')}`;
    this.#origin = new URL(credentials.site).origin;
    this.#backoffBaseMs = options.backoffBaseMs ?? 1000;
    this.#backoffMaxMs = options.backoffMaxMs ?? 60_000;
    this.#rateLimitRetries = options.rateLimitRetries ?? 3;
    this.#onRecovery = options.onRecovery ?? (() => {});
    this.#onConnected = options.onConnected ?? (() => {});
  }

  /**
   * The organisation's message editing settings as of the last registration; null before the first.
   * They can change between registrations: an edit refused anyway is told by its error (surface.ts).
   */
  get editPolicy(): EditPolicy | null {
    return this.#editPolicy;
  }

  /**
   * POST /register: a new event queue for the given event types, optionally narrowed, and the
   * organisation's editing settings (the `realm` initial state).
   */
  async register(narrow?: [string, string][], signal?: AbortSignal): Promise<Result<EventQueue>> {
    const eventTypes: ZulipEventType[] = ['message', 'update_message', 'delete_message', 'reaction'];
    const body: Body = {
      event_types: JSON.stringify(eventTypes),
      fetch_event_types: JSON.stringify(['realm']),
      // Raw Markdown, as the user typed it, not the rendered HTML.
      apply_markdown: false,
    };
    if (narrow) body.narrow = JSON.stringify(narrow);
    const response = await this.#call<{
      queue_id: string;
      last_event_id: number;
      event_queue_longpoll_timeout_seconds?: number;
      realm_allow_message_editing?: boolean;
      realm_message_content_edit_limit_seconds?: number | null;
    }>('POST', '/register', body, signal);
    if (!response.ok) return response;
    const { queue_id, last_event_id, event_queue_longpoll_timeout_seconds } = response.value;
    const longpollTimeoutS = event_queue_longpoll_timeout_seconds ?? DEFAULT_LONGPOLL_TIMEOUT_S;
    const limit = response.value.realm_message_content_edit_limit_seconds;
    this.#editPolicy = {
      allowed: response.value.realm_allow_message_editing ?? true,
      // No limit is null since Zulip 6 (feature level 138), 0 before.
      limitSeconds: limit ? limit : null,
    };
    return {
      ok: true,
      value: { queueId: queue_id, lastEventId: last_event_id, longpollTimeoutMs: longpollTimeoutS * 1000 },
    };
  }

  /**
   * One long poll of GET /events: the events after the queue's last one (which acknowledges those
   * before it), or a heartbeat when nothing happens. Advances `queue.lastEventId`; events already seen
   * (a response resent after it was lost) are left out.
   */
  async poll(queue: EventQueue, signal?: AbortSignal): Promise<Result<ZulipEvent[]>> {
    const query = new URLSearchParams({ queue_id: queue.queueId, last_event_id: String(queue.lastEventId) });
    // A connection that died silently (a NAT dropping it) would otherwise hold the poll forever.
    const timeout = AbortSignal.timeout(queue.longpollTimeoutMs);
    const pollSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const response = await this.#call<{ events: ZulipEvent[] }>(
      'GET',
      `/events?${query}`,
      undefined,
      pollSignal,
    );
    if (!response.ok) return response;
    const fresh = response.value.events.filter((event) => event.id > queue.lastEventId);
    for (const event of fresh) queue.lastEventId = Math.max(queue.lastEventId, event.id);
    return { ok: true, value: fresh.filter((event) => event.type !== 'heartbeat') };
  }

  /**
   * Every event until `signal` aborts, each once: registers, polls, registers a new queue when the
   * server has lost this one (restart, expiry), and backs off with jitter on any other failure.
   * Messages sent while no queue existed are fetched with GET /messages after the last one seen, and a
   * message is never delivered twice (message ids only grow). With `since` (epoch ms), the messages sent
   * since then (the bot's downtime before a restart) are fetched once the first queue exists, before
   * its events. Edits, deletions and reactions lost with a queue cannot be replayed: Zulip's API keeps
   * no history of them for a client to read.
   */
  async *events(options: {
    narrow?: [string, string][];
    signal: AbortSignal;
    since?: number;
  }): AsyncGenerator<ZulipEvent> {
    const { narrow, signal } = options;
    let queue: EventQueue | null = null;
    let lastMessageId = 0;
    /** The start of the downtime to catch up on, until its messages are fetched. */
    let since = options.since ?? null;
    /** Set when a queue was lost after a message was seen: the messages after it are fetched first. */
    let catchUpAfter: number | null = null;
    let failures = 0;
    let connected = false;
    while (!signal.aborted) {
      let step: Result<ZulipEvent[]>;
      if (!queue) {
        const registered = await this.register(narrow, signal);
        if (registered.ok) queue = registered.value;
        step = registered.ok ? { ok: true, value: [] } : registered;
      } else if (since !== null) {
        const recent = await this.messagesSince(since, narrow, signal);
        if (recent.ok) since = null;
        step = recent;
      } else if (catchUpAfter !== null) {
        const missed = await this.messagesAfter(catchUpAfter, narrow, signal);
        if (missed.ok && missed.value.foundNewest) catchUpAfter = null;
        step = missed.ok ? { ok: true, value: missed.value.events } : missed;
      } else {
        step = await this.poll(queue, signal);
      }
      if (signal.aborted) return;
      if (step.ok) {
        failures = 0;
        if (!connected) this.#onConnected();
        connected = true;
        for (const event of step.value) {
          if (event.type === 'message') {
            if (event.message.id <= lastMessageId) continue;
            lastMessageId = event.message.id;
            if (catchUpAfter !== null) catchUpAfter = lastMessageId;
          }
          yield event;
        }
        continue;
      }
      if ((step.failure.detail as { code?: string } | undefined)?.code === BAD_EVENT_QUEUE_ID) {
        connected = false;
        this.#onRecovery({
          ...step.failure,
          logText: `Zulip lost event queue ${queue?.queueId}; registering anew`,
        });
        queue = null;
        if (lastMessageId > 0) catchUpAfter = lastMessageId;
        continue;
      }
      failures += 1;
      connected = false;
      const ceiling = Math.min(this.#backoffMaxMs, this.#backoffBaseMs * 2 ** (failures - 1));
      const waitMs = Math.random() * ceiling;
      this.#onRecovery({
        ...step.failure,
        logText: `${step.failure.logText}; retrying in ${Math.round(waitMs)} ms`,
      });
      await sleep(waitMs, signal);
    }
  }

  /**
   * GET /messages: the messages sent since `since` (epoch ms), up to CATCH_UP_BATCH of the newest, as
   * message events, oldest first.
   */
  async messagesSince(
    since: number,
    narrow?: [string, string][],
    signal?: AbortSignal,
  ): Promise<Result<ZulipEvent[]>> {
    const newest = await this.#messages(
      { anchor: 'newest', num_before: String(CATCH_UP_BATCH), num_after: '0' },
      narrow,
      signal,
    );
    if (!newest.ok) return newest;
    const recent = newest.value.messages.filter((message) => message.timestamp * 1000 >= since);
    return { ok: true, value: messageEvents(recent) };
  }

  /**
   * GET /messages: up to CATCH_UP_BATCH messages after `messageId`, as message events, and whether they
   * reach the newest message.
   */
  async messagesAfter(
    messageId: number,
    narrow?: [string, string][],
    signal?: AbortSignal,
  ): Promise<Result<{ events: ZulipEvent[]; foundNewest: boolean }>> {
    const after = await this.#messages(
      {
        anchor: String(messageId),
        include_anchor: 'false',
        num_before: '0',
        num_after: String(CATCH_UP_BATCH),
      },
      narrow,
      signal,
    );
    if (!after.ok) return after;
    return {
      ok: true,
      value: { events: messageEvents(after.value.messages), foundNewest: after.value.found_newest },
    };
  }

  /** GET /messages around an anchor, as raw Markdown, with the bot's flags on each. */
  #messages(
    range: Record<string, string>,
    narrow: [string, string][] | undefined,
    signal?: AbortSignal,
  ): Promise<Result<{ messages: FlaggedMessage[]; found_newest: boolean }>> {
    const query = new URLSearchParams({
      ...range,
      narrow: JSON.stringify(narrow ?? []),
      apply_markdown: 'false',
    });
    return this.#call('GET', `/messages?${query}`, undefined, signal);
  }

  /**
   * GET /messages/{id}: one message as raw Markdown, with the bot's flags; null when there is none the
   * bot may see (deleted, or never there: Zulip answers BAD_REQUEST "Invalid message(s)").
   */
  async message(messageId: number): Promise<Result<FlaggedMessage | null>> {
    const response = await this.#call<{ message: FlaggedMessage }>(
      'GET',
      `/messages/${messageId}?apply_markdown=false`,
    );
    if (response.ok) return { ok: true, value: response.value.message };
    const code = (response.failure.detail as { code?: string } | undefined)?.code;
    return code === BAD_REQUEST ? { ok: true, value: null } : response;
  }

  /** GET /users/me: the bot's own user id and name (mentions of it, and its own messages, are told by them). */
  async ownUser(): Promise<Result<{ userId: number; fullName: string }>> {
    const response = await this.#call<{ user_id: number; full_name: string }>('GET', '/users/me');
    if (!response.ok) return response;
    return { ok: true, value: { userId: response.value.user_id, fullName: response.value.full_name } };
  }

  /** GET /messages: the newest `count` messages matching `narrow`, oldest first. */
  async newestMessages(narrow: [string, string][], count: number): Promise<Result<FlaggedMessage[]>> {
    const newest = await this.#messages(
      { anchor: 'newest', num_before: String(count), num_after: '0' },
      narrow,
    );
    return newest.ok ? { ok: true, value: newest.value.messages } : newest;
  }

  /** POST /messages to a channel (stream) and topic; the new message's id. */
  sendStreamMessage(channel: string, topic: string, content: string): Promise<Result<{ id: number }>> {
    return this.#call('POST', '/messages', { type: 'stream', to: channel, topic, content });
  }

  /** POST /messages as a direct message to the given users (ids). */
  sendDirectMessage(userIds: number[], content: string): Promise<Result<{ id: number }>> {
    return this.#call('POST', '/messages', { type: 'direct', to: JSON.stringify(userIds), content });
  }

  async editMessage(messageId: number, content: string): Promise<Result<void>> {
    return this.#done(await this.#call('PATCH', `/messages/${messageId}`, { content }));
  }

  async deleteMessage(messageId: number): Promise<Result<void>> {
    return this.#done(await this.#call('DELETE', `/messages/${messageId}`));
  }

  /** A reaction the bot already made (a retry) is no failure. */
  async addReaction(messageId: number, emojiName: string): Promise<Result<void>> {
    const added = await this.#call('POST', `/messages/${messageId}/reactions`, { emoji_name: emojiName });
    const code = !added.ok && (added.failure.detail as { code?: string } | undefined)?.code;
    return code === REACTION_ALREADY_EXISTS ? { ok: true, value: undefined } : this.#done(added);
  }

  /** POST /user_uploads: the uploaded file's path on the server (/user_uploads/…), for a message link. */
  async uploadFile(
    fileName: string,
    data: Uint8Array,
    contentType: string,
  ): Promise<Result<{ url: string }>> {
    const form = new FormData();
    form.append('file', new Blob([data], { type: contentType }), fileName);
    const response = await this.#call<{ url?: string; uri?: string }>('POST', '/user_uploads', form);
    if (!response.ok) return response;
    // `uri` is the name before Zulip 9 (feature level 272); `url` since.
    const url = response.value.url ?? response.value.uri;
    return url
      ? { ok: true, value: { url } }
      : failure('Zulip upload: no url in the response', response.value);
  }

  /**
   * A file under /user_uploads/ on this server, fetched with the bot's credentials, refused past
   * `maxBytes`. The credentials go to this server only: any other origin or path is refused.
   */
  async downloadUpload(link: string, maxBytes: number): Promise<Result<Uint8Array>> {
    const url = new URL(link, this.#origin);
    if (url.origin !== this.#origin || !url.pathname.startsWith('/user_uploads/')) {
      return {
        ok: false,
        failure: {
          userText: 'I can only read files uploaded to this Zulip.',
          logText: `Zulip download: ${url.href} is not an upload on ${this.#origin}`,
          userMistake: true,
        },
      };
    }
    let response: globalThis.Response;
    try {
      response = await fetch(url, { headers: { authorization: this.#authorization } });
    } catch (error) {
      return failure(`Zulip download: ${url.pathname} failed`, error);
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      return failure(`Zulip download: ${url.pathname} answered ${response.status}`);
    }
    const tooLarge = (): Result<Uint8Array> => ({
      ok: false,
      failure: {
        userText: `That file is larger than ${Math.floor(maxBytes / 1024)} KiB, more than I can read.`,
        logText: `Zulip download: ${url.pathname} is over ${maxBytes} bytes`,
        userMistake: true,
      },
    });
    if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
      await response.body.cancel();
      return tooLarge();
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += chunk.byteLength;
      if (size > maxBytes) return tooLarge(); // leaving the loop cancels the body
      chunks.push(chunk);
    }
    return { ok: true, value: Buffer.concat(chunks) };
  }

  #done(response: Result<unknown>): Result<void> {
    return response.ok ? { ok: true, value: undefined } : response;
  }

  /** One API call, tried again after the server's wait when refused with 429; failures carry the JSON. */
  async #call<T>(method: string, path: string, body?: Body, signal?: AbortSignal): Promise<Result<T>> {
    for (let attempt = 0; ; attempt++) {
      await sleep(this.#quietUntil - Date.now(), signal);
      const response = await this.#send<T>(method, path, body, signal);
      if (!response.ok) return response;
      const { status, json, retryAfterMs } = response.value;
      if (json.result === 'success') return { ok: true, value: json };
      const rateLimited = status === 429 || json.code === RATE_LIMIT_HIT;
      if (rateLimited && attempt < this.#rateLimitRetries) {
        this.#quietUntil = Math.max(this.#quietUntil, Date.now() + (retryAfterMs ?? this.#backoffBaseMs));
        continue;
      }
      return failure(
        `Zulip ${method} ${path.split('?')[0]}: ${status} ${json.code ?? ''} ${json.msg ?? ''}`,
        json,
      );
    }
  }

  async #send<T>(
    method: string,
    path: string,
    body?: Body,
    signal?: AbortSignal,
  ): Promise<Result<Response<T>>> {
    const url = `${this.#origin}/api/v1${path}`;
    const form = body instanceof FormData || body === undefined ? body : this.#urlEncoded(body);
    try {
      const response = await fetch(url, {
        method,
        headers: { authorization: this.#authorization },
        body: form,
        signal: signal ?? null,
      });
      this.#noteRateLimit(response.headers);
      const text = await response.text();
      let json: Response<T>['json'];
      try {
        json = JSON.parse(text);
      } catch {
        return failure(
          `Zulip ${method} ${path.split('?')[0]}: ${response.status}, not JSON`,
          text.slice(0, 200),
        );
      }
      const retryAfter = Number(response.headers.get('retry-after') ?? json['retry-after'] ?? Number.NaN);
      const retryAfterMs = Number.isFinite(retryAfter) ? retryAfter * 1000 : null;
      return { ok: true, value: { status: response.status, json, retryAfterMs } };
    } catch (error) {
      return failure(
        `Zulip ${method} ${path.split('?')[0]}: no response`,
        new NoResponse('the connection failed before a response', { cause: error }),
      );
    }
  }

  #urlEncoded(body: Record<string, string | number | boolean>): URLSearchParams {
    return new URLSearchParams(
      Object.entries(body).map(([key, value]): [string, string] => [key, String(value)]),
    );
  }

  /** X-RateLimit-Remaining 0: nothing more until X-RateLimit-Reset (seconds since the epoch). */
  #noteRateLimit(headers: Headers) {
    const remaining = headers.get('x-ratelimit-remaining');
    const reset = Number(headers.get('x-ratelimit-reset'));
    if (remaining === '0' && Number.isFinite(reset)) {
      this.#quietUntil = Math.max(this.#quietUntil, reset * 1000);
    }
  }
}

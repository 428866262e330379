/**
 * A small typed Zulip client over `fetch`: the REST calls the bot needs and the real-time event queue.
 * We write our own because the official `zulip-js` client is barely maintained: it has no types, and its
 * event loop swallows errors and never re-registers a lost queue. Here the event loop recovers on its
 * own (a new queue on BAD_EVENT_QUEUE_ID, backoff with jitter on errors, the rate limit's wait honoured),
 * errors are checked by their `code`, never by their translated `msg`, and every failure is a value.
 * This file holds the API methods and the event loop; Zulip's shapes and error codes are in
 * api-types.ts, the credentials in credentials.ts, and the requests themselves (the rate limit, a lost
 * response) in http.ts.
 */
import type { Failure, Result } from '../../../config/result.ts';
import {
  BAD_EVENT_QUEUE_ID,
  BAD_REQUEST,
  type FlaggedMessage,
  REACTION_ALREADY_EXISTS,
  type ZulipEvent,
  type ZulipEventType,
} from './api-types.ts';
import type { ZulipCredentials } from './credentials.ts';
import { type Body, failure, sleep, ZulipHttp } from './http.ts';

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

/** Fetched messages as message events: their `id` is -1, as they come from no queue. */
const messageEvents = (messages: FlaggedMessage[]): ZulipEvent[] =>
  messages.map(({ flags, ...message }) => ({ type: 'message', id: -1, message, flags: flags ?? [] }));

export class ZulipClient {
  readonly #authorization: string;
  readonly #origin: string;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #http: ZulipHttp;
  readonly #onRecovery: (failure: Failure) => void;
  readonly #onConnected: () => void;
  #editPolicy: EditPolicy | null = null;

  constructor(credentials: ZulipCredentials, options: ZulipClientOptions = {}) {
    this.#authorization = `Basic ${Buffer.from(`${credentials.email}:${credentials.apiKey}`).toString('base64')}`;
    this.#origin = new URL(credentials.site).origin;
    this.#backoffBaseMs = options.backoffBaseMs ?? 1000;
    this.#backoffMaxMs = options.backoffMaxMs ?? 60_000;
    this.#http = new ZulipHttp(this.#origin, this.#authorization, {
      rateLimitRetries: options.rateLimitRetries ?? 3,
      rateLimitWaitMs: this.#backoffBaseMs,
    });
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
    const response = await this.#http.call<{
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
    const response = await this.#http.call<{ events: ZulipEvent[] }>(
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
    return this.#http.call('GET', `/messages?${query}`, undefined, signal);
  }

  /**
   * GET /messages/{id}: one message as raw Markdown, with the bot's flags; null when there is none the
   * bot may see (deleted, or never there: Zulip answers BAD_REQUEST "Invalid message(s)").
   */
  async message(messageId: number): Promise<Result<FlaggedMessage | null>> {
    const response = await this.#http.call<{ message: FlaggedMessage }>(
      'GET',
      `/messages/${messageId}?apply_markdown=false`,
    );
    if (response.ok) return { ok: true, value: response.value.message };
    const code = (response.failure.detail as { code?: string } | undefined)?.code;
    return code === BAD_REQUEST ? { ok: true, value: null } : response;
  }

  /** GET /users/me: the bot's own user id and name (mentions of it, and its own messages, are told by them). */
  async ownUser(): Promise<Result<{ userId: number; fullName: string }>> {
    const response = await this.#http.call<{ user_id: number; full_name: string }>('GET', '/users/me');
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
    return this.#http.call('POST', '/messages', { type: 'stream', to: channel, topic, content });
  }

  /** POST /messages as a direct message to the given users (ids). */
  sendDirectMessage(userIds: number[], content: string): Promise<Result<{ id: number }>> {
    return this.#http.call('POST', '/messages', { type: 'direct', to: JSON.stringify(userIds), content });
  }

  async editMessage(messageId: number, content: string): Promise<Result<void>> {
    return this.#done(await this.#http.call('PATCH', `/messages/${messageId}`, { content }));
  }

  async deleteMessage(messageId: number): Promise<Result<void>> {
    return this.#done(await this.#http.call('DELETE', `/messages/${messageId}`));
  }

  /** A reaction the bot already made (a retry) is no failure. */
  async addReaction(messageId: number, emojiName: string): Promise<Result<void>> {
    const added = await this.#http.call('POST', `/messages/${messageId}/reactions`, {
      emoji_name: emojiName,
    });
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
    const response = await this.#http.call<{ url?: string; uri?: string }>('POST', '/user_uploads', form);
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
}

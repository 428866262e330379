/**
 * The bot on Zulip: finds who it is (GET /users/me), then long-polls its event queue through the client
 * (client.ts, which registers anew and catches up on messages after a lost queue) and hands each event to
 * the dispatcher: a message is asked, an edit of its text re-runs it, a deletion removes its replies, and
 * a reaction on one of the bot's messages counts for that reply. A move (a message or a whole topic taken
 * to another topic or channel) asks nothing: the messages are known where they now are, so that later
 * replies about them go there. The dispatcher answers through the surface (surface.ts), one per event.
 * Edits name only a message id: the messages seen are remembered (memory.ts) and one from before a
 * restart is fetched by id. At start, the messages sent in the last `catchUpMs` (while
 * the bot was down) are read first; the dispatcher's ledger answers each once.
 */
import type { Logger } from '../../../config/logger.ts';
import type { Result } from '../../../config/result.ts';
import type { Dispatcher, DispatchSurface } from '../../dispatch/dispatcher.ts';
import type { ZulipEvent, ZulipMessage } from './api-types.ts';
import { ZulipClient, type ZulipClientOptions } from './client.ts';
import type { ZulipCredentials } from './credentials.ts';
import { toIncomingMessage, type ZulipSelf } from './intake.ts';
import { KnownMessages, type Move } from './memory.ts';
import { createZulipSurface, emojiOfName, type ZulipChat, zulipDispatchSurface } from './surface.ts';

export type { ZulipChat } from './surface.ts';

export interface ZulipBotOptions {
  credentials: ZulipCredentials;
  /** Channels (names) where every message is read; elsewhere the bot answers only mentions and DMs. */
  channels: string[];
  dispatcher: Dispatcher;
  log: Logger;
  /** At start, messages this recent are read (sent while the bot was down); 0: none. */
  catchUpMs?: number;
  /** The client's backoff and rate-limit settings (tests shorten them). */
  clientOptions?: Omit<ZulipClientOptions, 'onRecovery' | 'onConnected'>;
}

export interface ZulipBot {
  chat: ZulipChat;
  /** Polling the event queue successfully now (for /readyz). */
  isConnected(): boolean;
  stop(): Promise<void>;
}

/** The move an update_message event makes (to another topic and/or channel); null for an edit only. */
export function moveOf(event: Extract<ZulipEvent, { type: 'update_message' }>): Move | null {
  if (event.stream_id === undefined) return null;
  if (event.new_stream_id === undefined && event.subject === undefined) return null;
  return {
    messageIds: event.message_ids,
    fromStreamId: event.stream_id,
    ...(event.new_stream_id !== undefined ? { toStreamId: event.new_stream_id } : {}),
    ...(event.subject !== undefined ? { toTopic: event.subject } : {}),
  };
}

export async function startZulipBot(options: ZulipBotOptions): Promise<Result<ZulipBot>> {
  const { dispatcher, log } = options;
  let connected = false;
  const client = new ZulipClient(options.credentials, {
    ...options.clientOptions,
    onConnected: () => {
      connected = true;
      log.info('zulip: polling the event queue');
    },
    onRecovery: (failure) => {
      connected = false;
      log.warn({ err: failure.detail }, `zulip: ${failure.logText}`);
    },
  });
  const me = await client.ownUser();
  if (!me.ok) return me;
  const self: ZulipSelf = me.value;
  const intake = { self, channels: new Set(options.channels) };
  const messages = new KnownMessages(client);
  const chat = createZulipSurface({ client, self, email: options.credentials.email, messages });

  /**
   * Hands one event to the dispatcher on a surface of its own: edits made while it is handled answer
   * it, later ones (a job's progress) only bring a reply up to date (see zulipDispatchSurface).
   */
  async function dispatch<T>(call: (surface: DispatchSurface) => Promise<T>): Promise<T> {
    const { surface, handled } = zulipDispatchSurface(chat, log);
    try {
      return await call(surface);
    } finally {
      handled();
    }
  }

  async function handle(event: ZulipEvent): Promise<void> {
    if (event.type === 'message') {
      messages.remember(event.message, event.flags);
      const question = toIncomingMessage(event.message, event.flags, intake);
      if (question) await dispatch((surface) => dispatcher.message(question, surface));
    } else if (event.type === 'update_message') {
      // Link previews (rendering_only) are not edits, and the bot's own edits (its answers moving on) ask
      // nothing.
      if (event.rendering_only || event.user_id === self.userId) return;
      // A move: the messages are known where they now are. It asks nothing (a moved question is not asked
      // again); a change of the text, with a move or without, re-runs the question where it now is.
      const move = moveOf(event);
      if (move) messages.moved(move);
      if (event.content === undefined) return;
      const known = await messages.find(event.message_id);
      if (!known.ok) throw new Error(known.failure.logText, { cause: known.failure.detail });
      if (!known.value) return;
      const message: ZulipMessage = { ...known.value.message, content: event.content };
      messages.remember(message, known.value.flags);
      const edited = toIncomingMessage(message, known.value.flags, intake);
      const editTime = event.edit_timestamp ?? Date.now();
      if (edited) {
        const eventId = `${event.message_id}@${editTime}`;
        await dispatch((surface) => dispatcher.edited(edited, surface, eventId));
      }
    } else if (event.type === 'delete_message') {
      for (const id of event.message_ids ?? (event.message_id ? [event.message_id] : [])) {
        const ownMessage = messages.peek(id)?.message.sender_id === self.userId;
        messages.forget(id);
        // The bot's own messages (its replies, removed by it or a moderator) are not questions.
        if (!ownMessage) await dispatch((surface) => dispatcher.deleted(String(id), surface));
      }
    } else if (event.type === 'reaction') {
      if (event.op !== 'add' || event.user_id === self.userId) return;
      // A message not remembered (from before a restart) goes on too: the ledger knows the bot's answers
      // and approval requests, so a reaction on anything else counts for nothing.
      const known = messages.peek(event.message_id);
      if (known && known.message.sender_id !== self.userId) return;
      await dispatcher.reacted(
        String(event.message_id),
        String(event.user_id),
        emojiOfName(event.emoji_name),
      );
    }
  }

  const stopping = new AbortController();
  const polling = (async () => {
    const since = options.catchUpMs ? { since: Date.now() - options.catchUpMs } : {};
    for await (const event of client.events({ signal: stopping.signal, ...since })) {
      void handle(event).catch((error: unknown) =>
        log.error({ err: error }, `zulip: could not handle a ${event.type}`),
      );
    }
  })();
  log.info({ user: self.fullName, channels: options.channels }, 'connected to Zulip');
  // The owed jobs' replies are all later ones: their progress only brings a reply up to date.
  const resumed = zulipDispatchSurface(chat, log);
  resumed.handled();
  await dispatcher.resume(resumed.surface);

  return {
    ok: true,
    value: {
      chat,
      isConnected: () => !stopping.signal.aborted && connected,
      async stop() {
        stopping.abort();
        await polling;
      },
    },
  };
}

/**
 * The bot on Zulip: finds who it is (GET /users/me), then long-polls its event queue through the client
 * (client.ts, which registers anew and catches up on messages after a lost queue) and hands each event to
 * the dispatcher: a message is asked, an edit of its text re-runs it, a deletion removes its replies, and
 * a reaction on one of the bot's messages counts for that reply. The dispatcher answers through the
 * surface (surface.ts). Edits and reactions name only a message id: the recent messages are remembered
 * (a bounded number) to know whose message it was and where.
 */
import type { Logger } from '../../../config/logger.ts';
import type { Result } from '../../../config/result.ts';
import type { Dispatcher } from '../../dispatch/dispatcher.ts';
import {
  ZulipClient,
  type ZulipClientOptions,
  type ZulipCredentials,
  type ZulipEvent,
  type ZulipMessage,
} from './client.ts';
import { toIncomingMessage, type ZulipSelf } from './intake.ts';
import { createZulipSurface, emojiOfName, type ZulipChat, zulipDispatchSurface } from './surface.ts';

export type { ZulipChat } from './surface.ts';

/** Messages remembered for their edits, deletions and reactions; older ones are forgotten. */
const REMEMBERED_MESSAGES = 5000;

export interface ZulipBotOptions {
  credentials: ZulipCredentials;
  /** Channels (names) where every message is read; elsewhere the bot answers only mentions and DMs. */
  channels: string[];
  dispatcher: Dispatcher;
  log: Logger;
  /** The client's backoff and rate-limit settings (tests shorten them). */
  clientOptions?: Omit<ZulipClientOptions, 'onRecovery' | 'onConnected'>;
}

export interface ZulipBot {
  chat: ZulipChat;
  /** Polling the event queue successfully now (for /readyz). */
  isConnected(): boolean;
  stop(): Promise<void>;
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
  const chat = createZulipSurface({ client, self, email: options.credentials.email });
  const dispatchSurface = zulipDispatchSurface(chat, log);
  const recent = new Map<number, { message: ZulipMessage; flags: string[] }>();

  function remember(message: ZulipMessage, flags: string[]) {
    recent.set(message.id, { message, flags });
    if (recent.size > REMEMBERED_MESSAGES) recent.delete(recent.keys().next().value!);
  }

  async function handle(event: ZulipEvent): Promise<void> {
    if (event.type === 'message') {
      remember(event.message, event.flags);
      const question = toIncomingMessage(event.message, event.flags, intake);
      if (question) await dispatcher.message(question, dispatchSurface);
    } else if (event.type === 'update_message') {
      // Content changes only: topic moves and link previews (rendering_only) are not edits.
      const known = recent.get(event.message_id);
      if (event.content === undefined || event.rendering_only || !known) return;
      known.message = { ...known.message, content: event.content };
      const edited = toIncomingMessage(known.message, known.flags, intake);
      const editTime = event.edit_timestamp ?? Date.now();
      if (edited) await dispatcher.edited(edited, dispatchSurface, `${event.message_id}@${editTime}`);
    } else if (event.type === 'delete_message') {
      for (const id of event.message_ids ?? (event.message_id ? [event.message_id] : [])) {
        // The bot's own messages (its replies, removed by it or a moderator) are not questions.
        if (recent.get(id)?.message.sender_id === self.userId) continue;
        recent.delete(id);
        await dispatcher.deleted(String(id), dispatchSurface);
      }
    } else if (event.type === 'reaction') {
      if (event.op !== 'add' || event.user_id === self.userId) return;
      if (recent.get(event.message_id)?.message.sender_id !== self.userId) return;
      await dispatcher.reacted(
        String(event.message_id),
        String(event.user_id),
        emojiOfName(event.emoji_name),
      );
    }
  }

  const stopping = new AbortController();
  const polling = (async () => {
    for await (const event of client.events({ signal: stopping.signal })) {
      void handle(event).catch((error: unknown) =>
        log.error({ err: error }, `zulip: could not handle a ${event.type}`),
      );
    }
  })();
  log.info({ user: self.fullName, channels: options.channels }, 'connected to Zulip');
  await dispatcher.resume(dispatchSurface);

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

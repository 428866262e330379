/**
 * The bot in Matrix: logs in (matrix-session.ts), syncs, joins rooms it is invited to from the allowlist,
 * hands room messages, edits and redactions (by their message's author, or by someone with the power to
 * redact others') and 👍/👎 reactions to the dispatcher, which answers through
 * matrix-surface.ts in threads. Its own messages are never answered, and of those from before it started
 * (the initial sync) only the last `catchUpMs` worth: what was asked while it restarted. After a homeserver
 * restart the SDK's sync resumes from where it was; the dispatcher's durable claims keep a replayed event,
 * or one answered before a restart, from being answered twice.
 */
import {
  ClientEvent,
  createClient,
  type MatrixClient,
  MatrixEvent,
  type Room,
  RoomEvent,
  SyncState,
} from 'matrix-js-sdk';
import type { Logger } from '../../../config/logger.ts';
import type { Result } from '../../../config/result.ts';
import { textMessage } from '../../chat/rich-message.ts';
import type { Dispatcher, DispatchSurface } from '../../dispatch/dispatcher.ts';
import {
  DEFAULT_KEY_WAIT_MS,
  decryptedNow,
  type EncryptionOptions,
  keyArrives,
  startEncryptedClient,
} from './crypto.ts';
import type { CryptoStore } from './crypto-store.ts';
import {
  type BotIdentity,
  editedEventId,
  inviteAllowed,
  isDirectRoom,
  redactedEventId,
  redactionAllowed,
  toEditedMessage,
  toIncomingMessage,
} from './intake.ts';
import { routeSdkGlobalLog, sdkLogger } from './sdk-log.ts';
import { type MatrixCredentials, type MatrixSession, openSession } from './session.ts';
import { createMatrixSurface, type MatrixSurface, retrying } from './surface.ts';

export interface MatrixBotOptions extends MatrixCredentials {
  /** Invites are accepted from these users (`@a:example.org`), servers (`example.org`) or to these rooms (`!id:example.org`). */
  allowlist: readonly string[];
  dispatcher: Dispatcher;
  log: Logger;
  /** End-to-end encryption for encrypted rooms and DMs; off when absent. */
  encryption?: EncryptionOptions;
  /** Messages this much older than the start are still answered (unless answered before); default 0. */
  catchUpMs?: number;
}

export interface MatrixBot {
  userId: string;
  deviceId: string;
  surface: MatrixSurface;
  /** Syncing with the homeserver now (for /readyz). */
  isConnected(): boolean;
  /** Stops syncing once the messages being answered are answered (jobs still running are not waited for). */
  stop(): Promise<void>;
}

const UNREADABLE = textMessage(
  'I could not decrypt your message: your app may not have shared its key with me. Please send it again.',
);

/** Events per room the first sync brings, to catch up on; older ones are history. */
const CATCH_UP_EVENTS = 30;
/**
 * A message from before the start that the sync bringing it did not unlock waits this long for its key,
 * beside the others and apart from the room's queue: such keys rarely come later (the message was meant
 * for an earlier device, or the sender's app never shared the key).
 */
const CATCH_UP_KEY_WAIT_MS = 2_000;

function waitForFirstSync(client: MatrixClient): Promise<void> {
  return new Promise((resolve) => {
    const onSync = (state: SyncState) => {
      if (state !== SyncState.Prepared && state !== SyncState.Syncing) return;
      client.off(ClientEvent.Sync, onSync);
      resolve();
    };
    client.on(ClientEvent.Sync, onSync);
  });
}

interface Connection {
  session: MatrixSession;
  client: MatrixClient;
  store: CryptoStore | null;
}

async function connect(options: MatrixBotOptions): Promise<Result<Connection>> {
  const { log } = options;
  routeSdkGlobalLog(log);
  const clientFor = (session: MatrixSession) =>
    createClient({
      baseUrl: session.homeserverUrl,
      accessToken: session.accessToken,
      userId: session.userId,
      deviceId: session.deviceId,
      logger: sdkLogger(log),
    });
  if (options.encryption) return startEncryptedClient(options, clientFor, log);
  const opened = await openSession(options);
  if (!opened.ok) return opened;
  return { ok: true, value: { session: opened.value, client: clientFor(opened.value), store: null } };
}

export async function startMatrixBot(options: MatrixBotOptions): Promise<Result<MatrixBot>> {
  const { log, dispatcher } = options;
  const connected = await connect(options);
  if (!connected.ok) return connected;
  const { session, client, store } = connected.value;
  const surface = createMatrixSurface(client, log);
  const profile = await client.getProfileInfo(session.userId).catch(() => ({ displayname: undefined }));
  const botThreads = new Set<string>();
  const bot: BotIdentity = {
    userId: session.userId,
    displayName: profile.displayname ?? null,
    threads: botThreads,
  };
  /** Rooms the bot was invited to as a DM (`is_direct`), beyond those with just two members. */
  const directRooms = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  /** Undecryptable messages waiting for their keys, outside the room queues: they hold up no answer. */
  const keyWaits = new Set<Promise<void>>();
  const stopping = new AbortController();
  /** DMs told that a message could not be read, until one there is read again: the notice comes once. */
  const toldUnreadable = new Set<string>();
  /** Per room, so answers come in the order the questions were asked. */
  const roomQueues = new Map<string, Promise<void>>();
  let live = false;
  const startedAt = Date.now();
  const oldest = startedAt - (options.catchUpMs ?? 0);
  const keyWaitMs = options.encryption?.keyWaitMs ?? DEFAULT_KEY_WAIT_MS;
  /** Until when an undecryptable message waits for its key, from when the bot sees it. */
  const keyDeadlineOf = (event: MatrixEvent) =>
    Date.now() + (event.localTimestamp < startedAt ? CATCH_UP_KEY_WAIT_MS : keyWaitMs);

  const chatSurface: DispatchSurface = {
    platform: 'matrix',
    sender: surface,
    attachments: surface,
    remover: surface,
    track(work) {
      work.catch((error: unknown) => log.error({ err: error }, 'matrix: a later reply failed'));
    },
  };

  /** The message an edit or redaction is about: in the room's timeline, else fetched (it may be older than the sync). */
  async function originalOf(room: Room, eventId: string): Promise<MatrixEvent | null> {
    const known = room.findEventById(eventId);
    if (known) return known;
    const raw = await client.fetchRoomEvent(room.roomId, eventId).catch(() => null);
    return raw ? new MatrixEvent(raw) : null;
  }

  /**
   * A message that stays undecryptable. In a DM it was surely meant for the bot, which says once that it
   * could not read it; in a room it may not have been. One that an earlier run of the bot wrote after was
   * dealt with then (a DM's messages are answered in order): a new device cannot read those either.
   */
  async function unreadable(event: MatrixEvent, room: Room): Promise<void> {
    log.warn({ eventId: event.getId(), roomId: room.roomId }, 'matrix: could not decrypt a message');
    if (stopping.signal.aborted || !isDirectRoom(room, directRooms) || toldUnreadable.has(room.roomId))
      return;
    const timeline = room.getLiveTimeline().getEvents();
    const lastOwn = timeline.findLastIndex(
      (e) => e.getSender() === session.userId && e.localTimestamp < startedAt,
    );
    const position = timeline.indexOf(event);
    if (position !== -1 && position < lastOwn) return;
    toldUnreadable.add(room.roomId);
    // Keyed by the first unreadable message since the earlier run last wrote, the same after a restart:
    // the notice is not repeated.
    const first = timeline.slice(lastOwn + 1).find((e) => e.isDecryptionFailure()) ?? event;
    await surface.send({ roomId: room.roomId }, UNREADABLE, {
      replyTo: first.getId() ?? '',
      idempotencyKey: `unreadable/${first.getId()}`,
    });
  }

  /** The event's key is waited for beside the queue; once it comes, the event joins the queue's end. */
  function awaitKey(event: MatrixEvent, room: Room, deadline: number): void {
    const wait = keyArrives(event, deadline, stopping.signal)
      .then((arrived) => (arrived ? enqueue(event, room, deadline) : unreadable(event, room)))
      .catch((error: unknown) => log.error({ err: error }, 'matrix: could not answer a message'))
      .finally(() => keyWaits.delete(wait));
    keyWaits.add(wait);
  }

  async function onTimelineEvent(event: MatrixEvent, room: Room, keyDeadline: number): Promise<void> {
    if (event.isEncrypted() && !options.encryption) {
      log.warn({ roomId: room.roomId }, 'matrix: an encrypted message, but encryption is off for this bot');
      return;
    }
    if (!(await decryptedNow(client, event))) return awaitKey(event, room, keyDeadline);
    const eventId = event.getId() ?? '';
    const direct = isDirectRoom(room, directRooms);
    if (direct) toldUnreadable.delete(room.roomId);
    const relation = event.getContent()['m.relates_to'] as { event_id?: string; key?: string } | undefined;
    switch (event.getType()) {
      case 'm.reaction': {
        if (relation?.key && relation.event_id)
          await dispatcher.reacted(relation.event_id, event.getSender() ?? '', relation.key);
        return;
      }
      case 'm.room.redaction': {
        const redacted = redactedEventId(event);
        if (!redacted) return;
        const sender = event.getSender() ?? '';
        const originalSender = (await originalOf(room, redacted))?.getSender() ?? null;
        if (redactionAllowed(room, sender, originalSender)) await dispatcher.deleted(redacted, chatSurface);
        else log.info({ eventId, redacted, sender }, 'matrix: ignored a redaction of someone else’s message');
        return;
      }
    }
    const replaced = editedEventId(event);
    if (replaced) {
      const original = await originalOf(room, replaced);
      const edited = original && toEditedMessage(event, original, room, bot, direct);
      if (edited) await dispatcher.edited(edited, chatSurface, eventId);
      return;
    }
    const message = toIncomingMessage(event, room, bot, direct);
    if (!message) return;
    log.debug({ eventId, roomId: room.roomId, author: message.author.id }, 'matrix: message');
    await dispatcher.message(message, chatSurface);
  }

  function enqueue(event: MatrixEvent, room: Room, keyDeadline = keyDeadlineOf(event)): void {
    const id = event.getId();
    if (!id) return;
    const previous = roomQueues.get(room.roomId) ?? Promise.resolve();
    const work = previous
      .then(() => onTimelineEvent(event, room, keyDeadline))
      .catch((error: unknown) =>
        log.error({ err: error, eventId: id }, 'matrix: could not answer a message'),
      );
    roomQueues.set(room.roomId, work);
    const tracked = work.finally(() => {
      inFlight.delete(tracked);
      if (roomQueues.get(room.roomId) === work) roomQueues.delete(room.roomId);
    });
    inFlight.add(tracked);
  }

  async function onInvite(room: Room): Promise<void> {
    const invite = room.getMember(session.userId)?.events.member;
    const inviter = invite?.getSender() ?? '';
    if (!inviteAllowed(options.allowlist, inviter, room.roomId)) {
      log.info({ roomId: room.roomId, inviter }, 'matrix: declined an invite from outside the allowlist');
      await retrying(log, 'declining an invite', () => client.leave(room.roomId));
      return;
    }
    if (invite?.getContent().is_direct === true) directRooms.add(room.roomId);
    await retrying(log, 'joining a room', () => client.joinRoom(room.roomId));
    log.info({ roomId: room.roomId, inviter }, 'matrix: joined a room on invite');
  }

  /** Its own events are never answered; they tell which threads it is in (history included). */
  function noteOwnEvent(event: MatrixEvent): void {
    const relation = event.getWireContent()['m.relates_to'] as
      | { rel_type?: string; event_id?: string }
      | undefined;
    if (relation?.rel_type === 'm.thread' && relation.event_id) botThreads.add(relation.event_id);
  }

  client.on(RoomEvent.Timeline, (event, room, toStartOfTimeline, _removed, data) => {
    if (event.getSender() === session.userId) return noteOwnEvent(event);
    // History is not answered: the first sync's events, and older ones a later sync still brings (a room's
    // timeline arrives once the bot has it in view). The age comes from the homeserver: no clock skew.
    if (!live || toStartOfTimeline || !room || data.liveEvent === false) return;
    if (event.localTimestamp < oldest) return;
    enqueue(event, room);
  });
  client.on(RoomEvent.MyMembership, (room, membership) => {
    if (membership !== 'invite') return;
    onInvite(room).catch((error: unknown) =>
      log.error({ err: error, roomId: room.roomId }, 'matrix: could not answer an invite'),
    );
  });
  client.on(ClientEvent.Sync, (state, previous) => {
    if (state === SyncState.Error || state === SyncState.Reconnecting) {
      if (previous !== state) log.warn({ state }, 'matrix: lost the homeserver; sync will resume');
    } else if (
      state === SyncState.Syncing &&
      (previous === SyncState.Error || previous === SyncState.Reconnecting)
    ) {
      log.info('matrix: the homeserver is back; sync resumed');
    }
  });

  const firstSync = waitForFirstSync(client);
  await client.startClient({ initialSyncLimit: CATCH_UP_EVENTS, lazyLoadMembers: true });
  await firstSync;
  live = true;
  // What was said while the bot was away: answered now, unless the ledger says it was answered already.
  for (const room of client.getRooms()) {
    if (room.getMyMembership() !== 'join') continue;
    for (const event of room.getLiveTimeline().getEvents())
      if (event.getSender() !== session.userId && event.localTimestamp >= oldest) enqueue(event, room);
  }
  log.info({ userId: session.userId, deviceId: session.deviceId }, 'matrix: the bot is listening');
  await dispatcher.resume(chatSurface);

  return {
    ok: true,
    value: {
      userId: session.userId,
      deviceId: session.deviceId,
      surface,
      isConnected: () => {
        const state = client.getSyncState();
        return state === SyncState.Syncing || state === SyncState.Prepared;
      },
      async stop() {
        live = false;
        stopping.abort();
        await Promise.allSettled([...inFlight, ...keyWaits]);
        client.stopClient();
        await store?.flush();
      },
    },
  };
}

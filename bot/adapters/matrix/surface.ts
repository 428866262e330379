/**
 * What the bot does in Matrix rooms: send (in the conversation's thread, as a notice, addressing only
 * the asker), edit with m.replace, redact, react with m.annotation, and download mxc:// attachments through the
 * authenticated media API under a size cap. Sends outlast a homeserver restart and M_LIMIT_EXCEEDED.
 */
import {
  ConnectionError,
  Direction,
  EventStatus,
  EventType,
  type MatrixClient,
  MatrixError,
  type TimelineEvents,
} from 'matrix-js-sdk';
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
import type { AttachmentInfo, ConversationRef } from '../../chat/message.ts';
import type { RichMessage } from '../../chat/rich-message.ts';
import { renderMatrix } from './render.ts';

/**
 * Where a send's idempotency key travels in the event. Transaction ids dedupe only within one access
 * token, and a bot whose session file or crypto store was lost logs in anew: the key in the content lets
 * a restarted bot find what it sent before.
 */
const IDEMPOTENCY_FIELD = 'org.rfl_onboard.idempotency_key';
/** How far back a restarted bot looks for an event it may already have sent. */
const LOOKBACK_EVENTS = 200;

/** How long a send keeps trying through a homeserver restart or rate limiting before it gives up. */
const RETRY_FOR_MS = 120_000;
const MAX_BACKOFF_MS = 5_000;
/** Types that are never a source file, config or log, whatever the file is called. */
const BINARY_MIME =
  /^(image|audio|video|font)\/|^application\/(zip|gzip|x-(tar|xz|bzip2|7z|executable|sharedlib|elf|object))|^application\/pdf/;

export type MatrixSurface = MessageSender &
  MessageEditor &
  MessageRemover &
  ReactionSender &
  AttachmentFetcher;

/** Transient: the homeserver is away (restarting) or asks us to slow down. */
function retryDelay(error: unknown, attempt: number): number | null {
  const backoff = Math.min(MAX_BACKOFF_MS, 250 * 2 ** attempt);
  if (error instanceof ConnectionError) return backoff;
  if (error instanceof MatrixError && error.isRateLimitError()) return error.getRetryAfterMs() ?? backoff;
  if (error instanceof MatrixError && error.httpStatus !== undefined && error.httpStatus >= 502)
    return backoff;
  return null;
}

/**
 * Runs a request until it succeeds or fails for good. matrix-js-sdk's scheduler already waits out a few
 * M_LIMIT_EXCEEDED for events it sends, but drops events on connection errors: this covers both.
 */
export async function retrying<T>(log: Logger, what: string, request: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await request();
    } catch (error) {
      const delay = retryDelay(error, attempt);
      if (delay === null || Date.now() + delay - started > RETRY_FOR_MS) throw error;
      log.info({ err: error, delayMs: delay, attempt }, `matrix: ${what} will be retried`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

function threadRelation(to: ConversationRef, replyTo: string | undefined) {
  if (to.threadId) {
    // A reply to the thread's root is the thread itself: clients without threads see the quote fallback.
    const inReply = replyTo ?? to.threadId;
    return {
      rel_type: 'm.thread',
      event_id: to.threadId,
      is_falling_back: inReply === to.threadId,
      'm.in_reply_to': { event_id: inReply },
    };
  }
  return replyTo ? { 'm.in_reply_to': { event_id: replyTo } } : undefined;
}

function messageContent(content: RichMessage) {
  const { body, html } = renderMatrix(content);
  return { msgtype: 'm.notice', body, format: 'org.matrix.custom.html', formatted_body: html };
}

function failed(userText: string, logText: string, detail?: unknown): Result<Uint8Array> {
  return { ok: false, failure: { userText, logText, detail } };
}

/** A file refused for what it is (too large, binary): the user's mistake, not the bot's. */
function refused(userText: string, logText: string, detail: unknown): Result<Uint8Array> {
  return { ok: false, failure: { userText, logText, detail, userMistake: true } };
}

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body ?? []) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      await response.body?.cancel();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function createMatrixSurface(client: MatrixClient, log: Logger): MatrixSurface {
  /** Addressing only the asker: with m.mentions present, clients ignore @room and names in the body. */
  function mentionsFor(roomId: string, replyTo: string | undefined) {
    const asker = replyTo ? client.getRoom(roomId)?.findEventById(replyTo)?.getSender() : undefined;
    return { user_ids: asker ? [asker] : [] };
  }

  /**
   * Content is built here to the spec; the SDK's per-type content types do not model threads and edits.
   * Every attempt carries the same transaction id: when a response is lost after the homeserver stored
   * the event, the retry gets that event back instead of posting a copy.
   */
  async function sendRaw<K extends EventType.RoomMessage | EventType.Reaction>(
    roomId: string,
    type: K,
    content: Record<string, unknown>,
    txnId = client.makeTxnId(),
  ): Promise<string> {
    const sent = await retrying(log, `sending ${type}`, () => {
      // The SDK keeps a failed attempt as a local echo under its transaction id and takes no new event
      // with that id: the attempt is sent again instead.
      const room = client.getRoom(roomId);
      const failed = room?.getEventForTxnId(txnId);
      if (room && failed?.status === EventStatus.NOT_SENT) return client.resendEvent(failed, room);
      return client.sendEvent(roomId, null, type, content as unknown as TimelineEvents[K], txnId);
    }).catch((error: unknown) => {
      metrics.chatSendError('matrix', error);
      throw error;
    });
    return sent.event_id;
  }

  /** The picture as an m.image event after the text it belongs to, in the same thread. */
  async function sendImage(
    to: ConversationRef,
    image: { name: string; png: Uint8Array },
    after: string,
    txnId?: string,
  ) {
    const bytes = Buffer.from(image.png);
    const upload = await retrying(log, 'uploading a picture', () =>
      client.uploadContent(bytes, { name: image.name, type: 'image/png' }),
    );
    const relation = threadRelation(to, after);
    await sendRaw(
      to.roomId,
      EventType.RoomMessage,
      {
        msgtype: 'm.image',
        body: image.name,
        url: upload.content_uri,
        info: { mimetype: 'image/png', size: bytes.byteLength },
        'm.mentions': {},
        ...(txnId ? { [IDEMPOTENCY_FIELD]: txnId } : {}),
        ...(relation ? { 'm.relates_to': relation } : {}),
      },
      txnId,
    );
  }

  /** The file as an m.file event after the text it belongs to, in the same thread. */
  async function sendFile(to: ConversationRef, file: { name: string; text: string }, after: string) {
    const bytes = Buffer.from(file.text);
    const upload = await retrying(log, 'uploading a file', () =>
      client.uploadContent(bytes, { name: file.name, type: 'text/plain' }),
    );
    const relation = threadRelation(to, after);
    await sendRaw(to.roomId, EventType.RoomMessage, {
      msgtype: 'm.file',
      body: file.name,
      filename: file.name,
      url: upload.content_uri,
      info: { mimetype: 'text/plain', size: bytes.byteLength },
      'm.mentions': {},
      ...(relation ? { 'm.relates_to': relation } : {}),
    });
  }

  /** The bot's own event carrying `key` among the room's recent events (decrypted ones included). */
  async function alreadySent(roomId: string, key: string): Promise<string | null> {
    const mine = (sender: string | undefined, content: Record<string, unknown> | undefined) =>
      sender === client.getUserId() && content?.[IDEMPOTENCY_FIELD] === key;
    for (const event of client.getRoom(roomId)?.getLiveTimeline().getEvents() ?? [])
      if (mine(event.getSender(), event.getContent()) && event.getId()) return event.getId() ?? null;
    const page = await retrying(log, 'reading recent events', () =>
      client.createMessagesRequest(roomId, null, LOOKBACK_EVENTS, Direction.Backward),
    );
    const found = page.chunk.find((event) => mine(event.sender, event.content as Record<string, unknown>));
    return found?.event_id ?? null;
  }

  return {
    async send(to, content, options: SendOptions = {}): Promise<MessageRef> {
      const relation = threadRelation(to, options.replyTo);
      const key = options.idempotencyKey;
      const earlier = key ? await alreadySent(to.roomId, key) : null;
      if (earlier)
        log.info({ roomId: to.roomId, eventId: earlier }, 'matrix: sent before a restart; not again');
      const event = {
        ...messageContent(content),
        'm.mentions': mentionsFor(to.roomId, options.replyTo),
        ...(relation ? { 'm.relates_to': relation } : {}),
        ...(key ? { [IDEMPOTENCY_FIELD]: key } : {}),
      };
      const messageId = earlier ?? (await sendRaw(to.roomId, EventType.RoomMessage, event, key));
      if (content.file && !earlier) await sendFile(to, content.file, messageId);
      const imageKey = key && `${key}.image`;
      if (content.image && !(imageKey && earlier && (await alreadySent(to.roomId, imageKey))))
        await sendImage(to, content.image, messageId, imageKey);
      return { conversation: to, messageId };
    },

    async edit(message, content) {
      const newContent = { ...messageContent(content), 'm.mentions': {} };
      await sendRaw(message.conversation.roomId, EventType.RoomMessage, {
        ...newContent,
        body: `* ${newContent.body}`,
        formatted_body: `* ${newContent.formatted_body}`,
        'm.new_content': newContent,
        'm.relates_to': { rel_type: 'm.replace', event_id: message.messageId },
      });
    },

    async remove(message) {
      await retrying(log, 'redacting a reply', () =>
        client.redactEvent(message.conversation.roomId, message.messageId, undefined, {
          reason: 'the message it answered was deleted',
        }),
      );
    },

    async react(to, reaction) {
      await sendRaw(to.conversation.roomId, EventType.Reaction, {
        'm.relates_to': { rel_type: 'm.annotation', event_id: to.messageId, key: reaction },
      });
    },

    async fetch(attachment: AttachmentInfo, { maxBytes }) {
      const tooBig = () =>
        refused(
          `“${attachment.name}” is larger than I take (${Math.round(maxBytes / 1024)} KiB).`,
          'matrix: attachment over the size cap',
          { name: attachment.name, size: attachment.size, maxBytes },
        );
      if (attachment.size !== null && attachment.size > maxBytes) return tooBig();
      if (attachment.mimeType && BINARY_MIME.test(attachment.mimeType)) {
        return refused(
          `“${attachment.name}” is ${attachment.mimeType}, not a text file. Please attach the source, .config or log as text.`,
          'matrix: refused a binary attachment by its type',
          { name: attachment.name, mimeType: attachment.mimeType },
        );
      }
      const match = /^mxc:\/\/([^/]+)\/([^/?#]+)$/.exec(attachment.id);
      if (!match) return failed('I could not fetch that file.', 'matrix: not an mxc URL', attachment);
      const url = `${client.getHomeserverUrl()}/_matrix/client/v1/media/download/${match[1]}/${match[2]}`;
      try {
        const response = await retrying(log, 'downloading an attachment', async () => {
          const answer = await fetch(url, {
            headers: { authorization: `Bearer ${client.getAccessToken()}` },
          }).catch((error: unknown) => {
            throw new ConnectionError('the homeserver did not answer', error as Error);
          });
          if (answer.status === 429 || answer.status >= 502) {
            throw new MatrixError(
              { errcode: answer.status === 429 ? 'M_LIMIT_EXCEEDED' : 'M_UNKNOWN' },
              answer.status,
            );
          }
          return answer;
        });
        if (!response.ok) {
          return failed('I could not fetch that file from the homeserver.', 'matrix: media download failed', {
            status: response.status,
            url: attachment.id,
          });
        }
        const bytes = await readCapped(response, maxBytes);
        return bytes ? { ok: true, value: bytes } : tooBig();
      } catch (error) {
        return failed(
          'I could not fetch that file from the homeserver.',
          'matrix: media download failed',
          error,
        );
      }
    },
  };
}

/**
 * What the bot does on Zulip, for the dispatcher and outside a reply: send a reply to the channel topic
 * where its question now is (a moderator may have moved it since it was asked) or to the direct message
 * (rendered as one message within Zulip's limit, a file uploaded and linked when the reply has one or
 * does not fit), edit it (within the organisation's edit limit; past it, or with editing turned off, the
 * new text goes out as a new message that later edits go to; a reply left behind by its moved question
 * goes out anew where the question is), update it (an edit that with editing turned off is left out: a
 * job's progress), delete it, react to a message, and download an upload under a size cap. Every
 * failure of the API is thrown as an Error, as the capabilities expect.
 * Zulip has no idempotency key: every message ends with an invisible marker made from a key (a keyed
 * send's, as a job's result; a random one otherwise), and a send is looked for by it among the bot's
 * newest messages before posting again: a keyed one after a restart, any one after a lost response.
 */
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as pause } from 'node:timers/promises';
import type { Logger } from '../../../config/logger.ts';
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
import type { ConversationRef } from '../../chat/message.ts';
import type { RichMessage } from '../../chat/rich-message.ts';
import type { DispatchSurface } from '../../dispatch/dispatcher.ts';
import { BAD_REQUEST } from './api-types.ts';
import type { EditPolicy, ZulipClient } from './client.ts';
import { unanswered } from './http.ts';
import { conversationOf, directRecipients, type ZulipSelf } from './intake.ts';
import type { KnownMessages } from './memory.ts';
import { renderZulip } from './render.ts';

export type ZulipChat = MessageSender &
  MessageEditor &
  MessageRemover &
  ReactionSender &
  AttachmentFetcher & {
    /**
     * An edit that only brings a reply up to date (a job's progress moving on): as `edit`, except that with
     * editing turned off it is left out, where `edit` would post the new text as a new message each time.
     */
    update(message: MessageRef, content: RichMessage): Promise<void>;
  };

/** Zulip's names of the emoji the bot reads and sends (reactions name them, not their code points). */
const EMOJI_NAMES: [emoji: string, names: string[]][] = [
  ['👍', ['+1', 'thumbs_up', 'like']],
  ['👎', ['-1', 'thumbs_down']],
  ['✅', ['check', 'white_check_mark']],
  ['👀', ['eyes']],
  ['⏳', ['hourglass', 'time_ticking']],
];

/** The Unicode emoji a reaction's name stands for; the name itself when it is none of ours. */
export function emojiOfName(name: string): string {
  return EMOJI_NAMES.find(([, names]) => names.includes(name))?.[0] ?? name;
}

function emojiName(emoji: string): string {
  return EMOJI_NAMES.find(([known]) => emoji.startsWith(known))?.[1][0] ?? emoji;
}

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(result.failure.logText, { cause: result.failure.detail });
  return result.value;
}

/** How many of the bot's newest messages a send looks through for one it sent already. */
const LOOKBACK_MESSAGES = 100;
/** Tries of a send whose responses are lost (a connection reset after Zulip took the message, or not). */
const SEND_ATTEMPTS = 3;
/** Four zero-width characters: two bits each, so a marker is invisible (on a line of its own after the reply). */
const MARKER_ALPHABET = ['\u200b', '\u200c', '\u200d', '\u2060'];

/**
 * An idempotency key as an invisible marker at the end of the message: 64 bits of its hash as 32
 * zero-width characters. Zulip has no idempotency key, so a retried send finds its message by this.
 */
export function idempotencyMarker(key: string): string {
  const digest = createHash('sha256').update(key).digest().subarray(0, 8);
  return [...digest]
    .flatMap((byte) => [6, 4, 2, 0].map((shift) => MARKER_ALPHABET[(byte >> shift) & 3]))
    .join('');
}

export interface ZulipSurfaceOptions {
  client: ZulipClient;
  self: ZulipSelf;
  /** The bot's email: a narrow to its own messages. */
  email: string;
  /** The messages seen (the bot's own, with the time they were sent) and the replacements of uneditable ones. */
  messages: KnownMessages;
}

const sameConversation = (a: ConversationRef, b: ConversationRef) =>
  a.roomId === b.roomId && a.threadId === b.threadId;

export function createZulipSurface(options: ZulipSurfaceOptions): ZulipChat {
  const { client, self, email, messages } = options;
  /**
   * The settings under which Zulip refused an edit they allow (of a message known to be within the
   * limit): editing was turned off since they were registered. Until the next registration tells, the
   * bot takes editing as off.
   */
  let refusedUnder: EditPolicy | null = null;

  /** Whether the organisation has message editing turned off, as far as the bot knows. */
  function editingOff(): boolean {
    const policy = client.editPolicy;
    return policy !== null && (!policy.allowed || refusedUnder === policy);
  }

  /** Whether the organisation still lets the bot edit this message, as far as the bot knows. */
  function editable(messageId: number): boolean {
    const policy = client.editPolicy;
    if (editingOff()) return false;
    const sentAt = messages.peek(messageId)?.message.timestamp;
    if (!policy?.limitSeconds || sentAt === undefined) return true;
    return Date.now() / 1000 - sentAt < policy.limitSeconds;
  }

  /**
   * Edits the message; false when Zulip no longer lets the bot (too late, or editing turned off since the
   * bot last registered): an edit refused with BAD_REQUEST of a message that is still there.
   */
  async function tryEdit(messageId: number, content: string): Promise<boolean> {
    if (!editable(messageId)) return false;
    const edited = await client.editMessage(messageId, content);
    if (edited.ok) return true;
    const code = (edited.failure.detail as { code?: string } | undefined)?.code;
    const refused = code === BAD_REQUEST && unwrap(await client.message(messageId)) !== null;
    if (!refused) unwrap(edited); // throws: an outage, or a message deleted meanwhile
    // Refused though within the limit the bot registered: editing has been turned off since.
    if (messages.peek(messageId)?.message.timestamp !== undefined) refusedUnder = client.editPolicy;
    return false;
  }

  /**
   * The bot's message carrying `marker` among its newest ones, wherever it is now: a moderator may have
   * moved it (or its question) since it was sent. A key is one send's, so the marker is found in one place.
   */
  async function alreadySent(marker: string): Promise<number | null> {
    const newest = unwrap(await client.newestMessages([['sender', email]], LOOKBACK_MESSAGES));
    return newest.find((message) => message.content.endsWith(marker))?.id ?? null;
  }

  /** The channel topic a message is in now (moves included); null for a direct message or one not there. */
  async function whereIs(messageId: number): Promise<ConversationRef | null> {
    const known = unwrap(await messages.find(messageId));
    return known?.message.type === 'stream' ? conversationOf(known.message, self) : null;
  }

  /** Where the replies to the user's message `replyTo` go: where it now is, or `to` (a DM, or unknown). */
  async function whereRepliesGo(to: ConversationRef, replyTo: number | undefined): Promise<ConversationRef> {
    if (replyTo === undefined || directRecipients(to)) return to;
    return (await whereIs(replyTo)) ?? to;
  }

  /** A message deleted, or already gone (a moderator removed it): no failure. */
  async function deleteIfThere(messageId: number): Promise<void> {
    const deleted = await client.deleteMessage(messageId);
    if (deleted.ok) return;
    const code = (deleted.failure.detail as { code?: string } | undefined)?.code;
    if (code !== BAD_REQUEST || unwrap(await client.message(messageId)) !== null) unwrap(deleted);
  }

  /**
   * The bot's message `ref` brought to `message`'s text: edited in place when Zulip lets the bot, else
   * posted as a new message that later edits go to. When its question was moved without it, the new text
   * goes out where the question now is and the message left behind is deleted. An `update` (a job's
   * progress) is left out while editing is turned off: one new message per stage would flood the topic.
   */
  async function revise(ref: MessageRef, message: RichMessage, update: boolean): Promise<void> {
    if (update && editingOff()) return;
    const original = Number(ref.messageId);
    const current = messages.current(original);
    const question = messages.questionOf(original);
    const where = question !== undefined ? await whereIs(question) : null;
    const here = where !== null ? await whereIs(current) : null;
    const leftBehind = where !== null && here !== null && !sameConversation(where, here);
    const content = await contentOf(message);
    if (!leftBehind && (await tryEdit(current, content))) return;
    if (update && editingOff()) return;
    const to = where ?? (await whereIs(current)) ?? ref.conversation;
    messages.replaced(original, await post(to, content, randomUUID()));
    if (leftBehind) await deleteIfThere(current);
  }

  /** The rendered reply, with its file and picture uploaded and linked after it. */
  async function contentOf(message: RichMessage): Promise<string> {
    const { content, file } = renderZulip(message);
    const links: string[] = [];
    if (file) {
      const uploaded = unwrap(await client.uploadFile(file.name, Buffer.from(file.text), 'text/plain'));
      links.push(`[${file.name}](${uploaded.url})`);
    }
    if (message.image) {
      const uploaded = unwrap(await client.uploadFile(message.image.name, message.image.png, 'image/png'));
      links.push(`[${message.image.name}](${uploaded.url})`);
    }
    return [content, ...links].join('\n');
  }

  /**
   * Posts `content` ending with the marker of `key`. A send that got no response may have been taken:
   * before it is tried again, the message is looked for by its marker, so it is posted once.
   */
  async function post(to: ConversationRef, content: string, key: string): Promise<number> {
    const marker = idempotencyMarker(key);
    const recipients = directRecipients(to);
    for (let attempt = 1; ; attempt++) {
      const sent = recipients
        ? await client.sendDirectMessage(recipients, `${content}\n${marker}`)
        : await client.sendStreamMessage(to.roomId, to.threadId ?? '', `${content}\n${marker}`);
      if (sent.ok) return sent.value.id;
      if (!unanswered(sent.failure) || attempt === SEND_ATTEMPTS) unwrap(sent);
      await pause(250 * attempt);
      const taken = await alreadySent(marker);
      if (taken !== null) return taken;
    }
  }

  return {
    /**
     * To where the message replied to now is (a moderator may have moved it). A keyed send (a job's
     * result) is first looked for: a restart may have come after it was posted.
     */
    async send(to, message, sendOptions: SendOptions = {}): Promise<MessageRef> {
      const question = sendOptions.replyTo !== undefined ? Number(sendOptions.replyTo) : undefined;
      const questionId = question !== undefined && Number.isSafeInteger(question) ? question : undefined;
      const where = await whereRepliesGo(to, questionId);
      const key = sendOptions.idempotencyKey;
      const earlier = key ? await alreadySent(idempotencyMarker(key)) : null;
      const messageId = earlier ?? (await post(where, await contentOf(message), key ?? randomUUID()));
      if (questionId !== undefined) messages.answers(messageId, questionId);
      return { conversation: where, messageId: String(messageId) };
    },
    /** An edit, or past the organisation's edit limit a new message that later edits of `ref` go to. */
    edit: (ref, message) => revise(ref, message, false),
    update: (ref, message) => revise(ref, message, true),
    async remove(ref) {
      const original = Number(ref.messageId);
      for (const id of [original, ...messages.replacements(original)]) await deleteIfThere(id);
    },
    async react(to, reaction) {
      unwrap(await client.addReaction(Number(to.messageId), emojiName(reaction)));
    },
    fetch: (attachment, { maxBytes }) => client.downloadUpload(attachment.id, maxBytes),
  };
}

/**
 * The surface the dispatcher handles one event through. What it edits while the event is being handled
 * answers the event (an edited question's earlier replies, reused) and always shows; what it edits after
 * `handled()` only brings a reply up to date (a job's progress, its "done"): with editing turned off
 * that is left out, so that a job posts its first state and its result, not one message per stage.
 * Later replies' failures are logged.
 */
export function zulipDispatchSurface(
  chat: ZulipChat,
  log: Logger,
): { surface: DispatchSurface; handled(): void } {
  let handling = true;
  const surface: DispatchSurface = {
    platform: 'zulip',
    sender: {
      send: (to, message, options) => chat.send(to, message, options),
      edit: (ref, message) => (handling ? chat.edit(ref, message) : chat.update(ref, message)),
    },
    attachments: chat,
    remover: chat,
    track: (work) => void work.catch((error: unknown) => log.error({ err: error }, 'a later reply failed')),
  };
  return {
    surface,
    handled() {
      handling = false;
    },
  };
}

/**
 * What the bot does on Zulip, for the dispatcher and outside a reply: send a reply to the same channel
 * topic or direct message (rendered as one message within Zulip's limit, a file uploaded and linked when
 * the reply has one or does not fit), edit it (within the organisation's edit limit; past it, or with
 * editing turned off, the new text goes out as a new message that later edits go to), delete it, react
 * to a message, and download an upload under a size cap. Every failure of the API is thrown as an
 * Error, as the capabilities expect.
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
import { BAD_REQUEST, unanswered, type ZulipClient, type ZulipMessage } from './client.ts';
import { conversationOf, directRecipients, type ZulipSelf } from './intake.ts';
import type { KnownMessages } from './memory.ts';
import { renderZulip } from './render.ts';

export type ZulipChat = MessageSender & MessageEditor & MessageRemover & ReactionSender & AttachmentFetcher;

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

export function createZulipSurface(options: ZulipSurfaceOptions): ZulipChat {
  const { client, self, email, messages } = options;

  /** Whether the organisation still lets the bot edit this message, as far as the bot knows. */
  function editable(messageId: number): boolean {
    const policy = client.editPolicy;
    if (policy && !policy.allowed) return false;
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
    return false;
  }

  /** The bot's message carrying `marker` among its newest ones in the conversation, if any. */
  async function alreadySent(to: ConversationRef, marker: string): Promise<number | null> {
    const newest = unwrap(await client.newestMessages([['sender', email]], LOOKBACK_MESSAGES));
    const sameConversation = (message: ZulipMessage) => {
      const conversation = conversationOf(message, self);
      return conversation.roomId === to.roomId && conversation.threadId === to.threadId;
    };
    return (
      newest.find((message) => sameConversation(message) && message.content.endsWith(marker))?.id ?? null
    );
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
      const taken = await alreadySent(to, marker);
      if (taken !== null) return taken;
    }
  }

  return {
    /** A keyed send (a job's result) is first looked for: a restart may have come after it was posted. */
    async send(to, message, sendOptions: SendOptions = {}): Promise<MessageRef> {
      const key = sendOptions.idempotencyKey;
      const earlier = key ? await alreadySent(to, idempotencyMarker(key)) : null;
      const messageId = earlier ?? (await post(to, await contentOf(message), key ?? randomUUID()));
      return { conversation: to, messageId: String(messageId) };
    },
    /** An edit, or past the organisation's edit limit a new message that later edits of `ref` go to. */
    async edit(ref, message) {
      const original = Number(ref.messageId);
      const content = await contentOf(message);
      if (await tryEdit(messages.current(original), content)) return;
      messages.replaced(original, await post(ref.conversation, content, randomUUID()));
    },
    async remove(ref) {
      const original = Number(ref.messageId);
      for (const id of [original, ...messages.replacements(original)]) unwrap(await client.deleteMessage(id));
    },
    async react(to, reaction) {
      unwrap(await client.addReaction(Number(to.messageId), emojiName(reaction)));
    },
    fetch: (attachment, { maxBytes }) => client.downloadUpload(attachment.id, maxBytes),
  };
}

/** The surface the dispatcher answers through; later replies' failures are logged. */
export function zulipDispatchSurface(chat: ZulipChat, log: Logger): DispatchSurface {
  return {
    platform: 'zulip',
    sender: chat,
    attachments: chat,
    remover: chat,
    track: (work) => void work.catch((error: unknown) => log.error({ err: error }, 'a later reply failed')),
  };
}

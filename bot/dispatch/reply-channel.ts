/**
 * The one place a user message's reply channel is built: what a command may do beyond its one reply
 * (later replies and edits, attachments, jobs owed a result). An adapter hands in what its platform can
 * do (a ChatSurface); the channel answers one message: its sends quote that message, are recorded as
 * they happen (the dispatcher keeps them in the ledger, so that editing the message edits them and
 * deleting it removes them), reuse the earlier replies first when an edit re-runs the message, and carry
 * an idempotency key where a send may be retried after a restart (a job's result).
 */
import type { JobOrigin } from '../../jobs/contracts.ts';
import type {
  AttachmentFetcher,
  MessageEditor,
  MessageRef,
  MessageRemover,
  MessageSender,
} from '../chat/capabilities.ts';
import type { ConversationRef } from '../chat/message.ts';
import type { RichMessage } from '../chat/rich-message.ts';
import type { JobObligations, Replies } from '../job-follow/chat-jobs.ts';

/** What an adapter's platform can do, handed to the dispatcher with each event. */
export interface ChatSurface {
  platform: JobOrigin['platform'];
  sender: MessageSender & MessageEditor;
  attachments?: AttachmentFetcher;
  /** Where the platform can delete or redact the bot's messages; without it, deleted answers are blanked. */
  remover?: MessageRemover;
  /** Replies still come until `work` settles (see Replies.track). */
  track(work: Promise<unknown>): void;
}

/** One user message's replies, as the router and its commands get them. */
export interface ReplyChannel extends Replies {
  platform: ChatSurface['platform'];
  attachments: AttachmentFetcher | null;
}

export interface ReplyChannelOptions {
  /** The conversation of the user's message, and the message itself, which every reply quotes. */
  conversation: ConversationRef;
  replyTo: string;
  /** The replies of an earlier run of the message (it was edited): edited in place before new ones go out. */
  reuse?: readonly MessageRef[];
  /** After each send, every reply so far (and the earlier ones not reused yet): the ledger keeps them. */
  onSent?: (refs: MessageRef[]) => Promise<void>;
  obligations?: JobObligations;
}

export interface OpenReplyChannel {
  channel: ReplyChannel;
  /** The replies this run sent or reused, in order. */
  readonly sent: readonly MessageRef[];
  /** The earlier replies this run did not reuse, handed over once (later sends no longer reuse them). */
  releaseUnused(): MessageRef[];
}

export function openReplyChannel(surface: ChatSurface, options: ReplyChannelOptions): OpenReplyChannel {
  const sent: MessageRef[] = [];
  const unused = [...(options.reuse ?? [])];
  const channel: ReplyChannel = {
    platform: surface.platform,
    attachments: surface.attachments ?? null,
    async send(content: RichMessage, sendOptions = {}) {
      const reused = unused.shift();
      if (reused) await surface.sender.edit(reused, content);
      const ref =
        reused ??
        (await surface.sender.send(options.conversation, content, {
          replyTo: options.replyTo,
          // Per user message: the same job followed from two messages sends its result to each.
          ...(sendOptions.once ? { idempotencyKey: `${options.replyTo}/${sendOptions.once}` } : {}),
        }));
      sent.push(ref);
      await options.onSent?.([...sent, ...unused]);
      return ref;
    },
    edit: (ref, content) => surface.sender.edit(ref, content),
    track: (work) => surface.track(work),
    ...(options.obligations ? { obligations: options.obligations } : {}),
  };
  return { channel, sent, releaseUnused: () => unused.splice(0) };
}

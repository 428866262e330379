/**
 * The chat behaviour every platform shares, between the adapters and the router: each event handled
 * once (claims in the ledger survive restarts), per-user rate limits, the bot's replies remembered per
 * user message so that editing it re-runs it and edits the earlier replies and deleting it removes them,
 * 👍/👎 recorded as feedback on the answer it was given on, and jobs' results still owed when the bot
 * stopped delivered when it is back. Adapters only translate their events.
 */
import type { Logger } from '../../config/logger.ts';
import { metrics } from '../../config/metrics.ts';
import type { ActivityLog } from '../../jobs/activity.ts';
import type { MessageRef } from '../chat/capabilities.ts';
import type { IncomingMessage } from '../chat/message.ts';
import { textMessage } from '../chat/rich-message.ts';
import type { JobObligations, JobQueueClient } from '../job-follow/chat-jobs.ts';
import { resumeJob } from '../job-follow/follow.ts';
import { type ChatLedger, type Rating, type ReplyRecord, ratingOfEmoji } from './chat-ledger.ts';
import { type ChatSurface, openReplyChannel } from './reply-channel.ts';
import type { Router } from './router.ts';

export interface DispatcherOptions {
  router: Pick<Router, 'handle' | 'isForBot'>;
  ledger: ChatLedger;
  /** `terminal`, `matrix`, `discord`, `zulip`: keys in the ledger are per platform. */
  platform: ChatSurface['platform'];
  /**
   * Messages a user may send the bot in any minute; the first one over gets a note, the rest silence.
   * Infinity: no limit (the operator at the terminal).
   */
  userMessagesPerMinute: number;
  /** Edits later than this after the first answer are not re-run. */
  editWindowMs: number;
  log: Logger;
  /** The job queue, to finish jobs owed from before a restart; null without one. */
  jobs?: Pick<JobQueueClient, 'follow'> | null;
  /** Feedback is recorded here for the digest. */
  activity?: ActivityLog | null;
  /** Reactions other than 👍/👎 on the bot's messages (✅ approving a digest). */
  onReaction?: (botMessageId: string, userId: string, emoji: string) => Promise<void>;
}

/** What an adapter hands the dispatcher with each event: what its platform can do. */
export type DispatchSurface = ChatSurface;

export interface Dispatcher {
  /** A new message. True when the bot answered it (or will, for jobs). */
  message(message: IncomingMessage, surface: DispatchSurface, eventId?: string): Promise<boolean>;
  /**
   * The user edited `message.id` (the original message's id) to `message.text`; `eventId` tells this edit
   * from others (Matrix: the edit event; Discord: the message id and edit time).
   */
  edited(message: IncomingMessage, surface: DispatchSurface, eventId: string): Promise<void>;
  /** The user deleted their message `messageId`. */
  deleted(messageId: string, surface: DispatchSurface): Promise<void>;
  /** A 👍/👎 on one of the bot's messages; false when it is not an answer or the rating is not new. */
  feedback(botMessageId: string, userId: string, rating: Rating): Promise<boolean>;
  /** Any reaction on one of the bot's messages: 👍/👎 is feedback, others go to `onReaction`. */
  reacted(botMessageId: string, userId: string, emoji: string): Promise<void>;
  /** Once connected: follows the jobs owed on this platform, whose results then go out once. */
  resume(surface: DispatchSurface): Promise<number>;
}

const slowDown = (perMinute: number) =>
  textMessage(
    `You’re sending me messages faster than I can answer well (${perMinute} a minute). Please wait a minute, then ask again — I’ll skip messages until then.`,
  );

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { router, ledger, platform, log } = options;
  const key = (id: string) => `${platform}:${id}`;
  const obligations: JobObligations = {
    owe: (job) => ledger.owe(platform, job),
    settle: (jobId) => ledger.settle(platform, jobId),
  };

  /**
   * Runs the message through the router on its reply channel, whose sends are recorded in the ledger as
   * they happen (a job's result comes long after the command returned). With `earlier` (an edit re-run),
   * sends edit those replies first; the ones the new run did not reuse are returned.
   */
  async function answer(message: IncomingMessage, surface: DispatchSurface, earlier: ReplyRecord | null) {
    const answeredAt = earlier?.answeredAt ?? Date.now();
    const run = openReplyChannel(surface, {
      conversation: message.conversation,
      replyTo: message.id,
      ...(earlier ? { reuse: earlier.refs } : {}),
      onSent: (refs) => ledger.saveReplies(key(message.id), { refs, answeredAt }),
      obligations,
    });
    const reply = await router.handle(message, run.channel);
    if (reply) {
      const ref = await run.channel.send(reply);
      await ledger.saveAnswer(key(ref.messageId), {
        question: message.text,
        private: message.isDirect,
        askerId: message.author.id,
        sources: reply.sources.map((source) => source.url),
        answeredAt: Date.now(),
      });
    }
    const unused = run.releaseUnused();
    if (earlier) await ledger.saveReplies(key(message.id), { refs: [...run.sent], answeredAt });
    return { answered: run.sent.length > 0, unused };
  }

  /** Within the limit (per sliding minute); a note the first time a user goes over it, then silence. */
  async function withinRateLimit(message: IncomingMessage, surface: DispatchSurface): Promise<boolean> {
    const limit = options.userMessagesPerMinute;
    if (limit === Number.POSITIVE_INFINITY) return true;
    const decision = await ledger.admitMessage(key(message.author.id), limit);
    if (decision === 'answer') return true;
    if (decision === 'silence') {
      log.debug({ author: message.author.id }, 'a rate-limited user’s message skipped');
      return false;
    }
    // Once per burst (the note goes out once until the user has been quiet for a minute).
    log.info({ author: message.author.id, perMinute: limit }, 'rate limited a user until a quiet minute');
    await surface.sender.send(message.conversation, slowDown(limit), { replyTo: message.id });
    return false;
  }

  async function removeAll(refs: MessageRef[], surface: DispatchSurface): Promise<void> {
    for (const ref of refs) {
      if (surface.remover) await surface.remover.remove(ref);
      else await surface.sender.edit(ref, textMessage('(The message this answered was deleted.)'));
    }
  }

  async function message(incoming: IncomingMessage, surface: DispatchSurface, eventId = incoming.id) {
    if (!(await ledger.claim(key(eventId)))) {
      log.debug({ eventId }, 'an event handled before: not answered again');
      return false;
    }
    if (!router.isForBot(incoming)) return false;
    if (!(await withinRateLimit(incoming, surface))) return false;
    return (await answer(incoming, surface, null)).answered;
  }

  async function edited(incoming: IncomingMessage, surface: DispatchSurface, eventId: string) {
    if (!(await ledger.claim(key(`edit:${eventId}`)))) return;
    const earlier = await ledger.replies(key(incoming.id));
    if (!earlier) {
      // Unanswered before (a typo in the command, say): the edited text is a new message.
      await message(incoming, surface, `${incoming.id}:${eventId}`);
      return;
    }
    if (Date.now() - earlier.answeredAt > options.editWindowMs) {
      log.debug({ messageId: incoming.id }, 'an edit after the edit window: not re-run');
      return;
    }
    if (!(await withinRateLimit(incoming, surface))) return;
    const { unused } = await answer(incoming, surface, earlier);
    await removeAll(unused, surface);
  }

  async function deleted(messageId: string, surface: DispatchSurface) {
    const earlier = await ledger.replies(key(messageId));
    if (!earlier) return;
    await ledger.forgetReplies(key(messageId));
    await removeAll(earlier.refs, surface);
  }

  async function feedback(botMessageId: string, userId: string, rating: Rating) {
    const answered = await ledger.answer(key(botMessageId));
    if (!answered) return false;
    const isNew = await ledger.rate(key(botMessageId), userId, rating);
    if (!isNew) return false;
    metrics.feedback(rating);
    log.info({ botMessageId, rating, question: answered.question }, 'feedback on an answer');
    const { activity } = options;
    await activity
      ?.record({
        type: 'feedback',
        at: Date.now(),
        platform,
        rater: await activity.pseudonym(platform, userId),
        rating,
        question: answered.question,
        private: answered.private ?? true,
        sources: answered.sources,
      })
      .catch((error: unknown) => log.warn({ err: error }, 'could not record feedback'));
    return true;
  }

  async function resume(surface: DispatchSurface) {
    const queue = options.jobs;
    if (!queue) return 0;
    const owed = await ledger.owed(platform);
    for (const job of owed) {
      const messageKey = key(job.replyTo);
      const { channel } = openReplyChannel(surface, {
        conversation: job.conversation,
        replyTo: job.replyTo,
        // The result joins the replies the message had before the restart (deleting it removes them all).
        onSent: async (refs) => {
          const before = await ledger.replies(messageKey);
          const kept = before?.refs ?? [];
          const added = refs.filter((ref) => !kept.some((known) => known.messageId === ref.messageId));
          await ledger.saveReplies(messageKey, {
            refs: [...kept, ...added],
            answeredAt: before?.answeredAt ?? job.submittedAt,
          });
        },
        obligations,
      });
      await resumeJob(job, channel, queue, log).catch((error: unknown) =>
        log.error({ err: error, jobId: job.jobId }, 'could not resume an owed job'),
      );
    }
    if (owed.length > 0) log.info({ jobs: owed.length }, 'following the jobs owed from before the restart');
    return owed.length;
  }

  async function reacted(botMessageId: string, userId: string, emoji: string) {
    const rating = ratingOfEmoji(emoji);
    if (rating) await feedback(botMessageId, userId, rating);
    else await options.onReaction?.(botMessageId, userId, emoji);
  }

  return { message, edited, deleted, feedback, reacted, resume };
}

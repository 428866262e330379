/**
 * Starting a job from a command and following it in the chat: one progress message edited as the job
 * moves (queued, position N → building → booting → done), then the result, summary first.
 */
import type { Logger } from '../../config/logger.ts';
import type { Result } from '../../config/result.ts';
import type { JobOrigin, JobRequest, JobResult } from '../../jobs/contracts.ts';
import { refusalText } from '../../jobs/queue/limits.ts';
import type { JobWatcher } from '../../jobs/queue/queue.ts';
import type { MessageRef } from '../chat/capabilities.ts';
import type { IncomingMessage } from '../chat/message.ts';
import { type RichMessage, textMessage } from '../chat/rich-message.ts';
import type { JobQueueClient, Jobs, OwedJob, Replies } from './chat-jobs.ts';
import { doneText, progressText, resultMessage } from './texts.ts';

const succeed = (value: RichMessage | null): Result<RichMessage | null> => ({ ok: true, value });

/** What starting a job needs of the command that starts it (a CommandContext has all of it). */
export interface JobStart {
  message: Pick<IncomingMessage, 'id' | 'conversation'>;
  jobs: Jobs | null;
  replies: Replies | null;
  origin: JobOrigin;
  prefix: string;
  log: Logger;
}

/**
 * How often a progress message may change between its first and its last state. Every edit shows as
 * "(edited)" and re-renders the message in clients: a stage seen for less than this is not worth an
 * edit. The first stage edit is due this long after the message was sent, so a job that finishes sooner
 * gets no stage edit at all, only "done".
 */
export const PROGRESS_EDIT_INTERVAL_MS = 1000;

/**
 * Follows one job in the chat: its progress message edited as the job moves (one edit at a time, in
 * order, only when the text changed, at most once per PROGRESS_EDIT_INTERVAL_MS, the latest stage
 * winning), then "done" and the result. `progressSent` resolves with the progress message once it is out.
 */
function followJob(replies: Replies, kind: JobRequest['kind'], prefix: string, log: Logger) {
  const progressSent = Promise.withResolvers<MessageRef>();
  progressSent.promise.catch(() => {});
  const finished = Promise.withResolvers<JobResult>();
  let jobId = '';
  let shown = '';
  let sentAt = Number.POSITIVE_INFINITY;
  let lastEditAt = Number.NEGATIVE_INFINITY;
  /** The newest stage not shown yet, and the timer that will show it. */
  let pending: string | null = null;
  let timer: NodeJS.Timeout | null = null;
  // A progress message that could not be sent was reported by startJob; its edits then only log.
  let edits: Promise<unknown> = progressSent.promise.then(
    () => {
      sentAt = Date.now();
    },
    () => {},
  );
  const edit = (text: string) => {
    edits = edits
      .then(async () => {
        if (text === shown) return;
        shown = text;
        lastEditAt = Date.now();
        await replies.edit(await progressSent.promise, textMessage(text));
      })
      .catch((error: unknown) => log.warn({ err: error, jobId }, 'could not edit a job progress message'));
    return edits;
  };
  /** A new stage: shown when the next edit is due, unless a newer one replaces it first. */
  const show = (text: string) => {
    pending = text;
    if (timer) return;
    void edits.then(() => {
      if (timer || pending === null) return;
      const due = Math.max(sentAt, lastEditAt) + PROGRESS_EDIT_INTERVAL_MS;
      timer = setTimeout(
        () => {
          timer = null;
          const stage = pending;
          pending = null;
          if (stage !== null) edit(stage);
        },
        Math.max(0, due - Date.now()),
      );
    });
  };
  const watcher: JobWatcher = {
    progress: (progress) => show(progressText(jobId, progress)),
    result: (result) => finished.resolve(result),
  };
  /**
   * Sends the result once it is there; then `done` runs (the obligation is settled). "done" replaces any
   * stage still waiting and goes out at once, before the result: the pacing is for the stages in
   * between, and neither the final state nor the result waits for it.
   */
  const deliver = (done: () => Promise<void>) =>
    replies.track(
      finished.promise.then(async (result) => {
        if (timer) clearTimeout(timer);
        timer = null;
        pending = null;
        await edit(doneText(result));
        // Once per job: a restart between sending the result and settling the job does not post it twice.
        await replies.send(resultMessage(result, kind, prefix), { once: `job-${result.jobId}-result` });
        await done();
      }),
    );
  return {
    watcher,
    progressSent,
    deliver,
    started(id: string, firstText: string) {
      jobId = id;
      shown = firstText;
    },
  };
}

/**
 * Submits the request and follows it: refusals and reused results are the command's reply; otherwise
 * the progress message and the result are sent through `replies`, and the command replies nothing more.
 * The job is owed until its result is sent, so a restarted bot still delivers it (resumeJob).
 */
export async function startJob(
  context: JobStart,
  request: JobRequest,
  notes: string[] = [],
): Promise<Result<RichMessage | null>> {
  const { jobs, replies, prefix, log } = context;
  if (!jobs || !replies) {
    return succeed(
      textMessage('I can’t run builds here: the job queue is not available. The operator’s log says why.'),
    );
  }
  const follower = followJob(replies, request.kind, prefix, log);
  const submission = await jobs.queue.submit(request, context.origin, follower.watcher);
  if (!submission.ok) return succeed(textMessage(refusalText(submission.refusal, prefix)));
  const { jobId } = submission;
  if (submission.status === 'cached') {
    return succeed(resultMessage(submission.result, request.kind, prefix, jobId));
  }
  const first =
    submission.status === 'queued'
      ? progressText(jobId, { stage: 'queued', position: submission.position })
      : progressText(jobId, submission.progress);
  follower.started(jobId, first);
  const firstMessage = textMessage(`${first} · ${prefix}cancel ${jobId} stops it`, notes);
  try {
    const progress = await replies.send(firstMessage);
    follower.progressSent.resolve(progress);
    await replies.obligations?.owe({
      jobId,
      kind: request.kind,
      origin: context.origin,
      conversation: context.message.conversation,
      replyTo: context.message.id,
      progress,
      prefix,
      submittedAt: Date.now(),
    });
  } catch (error) {
    log.warn({ err: error, jobId }, 'could not send a job progress message');
    follower.progressSent.reject(error);
  }
  follower.deliver(async () => {
    await replies.obligations?.settle(jobId);
  });
  return { ok: true, value: null };
}

/** Finishes a job owed from before a restart: its result (now or when it comes) goes out once. */
export async function resumeJob(
  job: OwedJob,
  replies: Replies,
  queue: Pick<JobQueueClient, 'follow'>,
  log: Logger,
): Promise<void> {
  const follower = followJob(replies, job.kind, job.prefix, log);
  follower.started(job.jobId, '');
  follower.progressSent.resolve(job.progress);
  const settle = async () => {
    await replies.obligations?.settle(job.jobId);
  };
  if ((await queue.follow(job.jobId, job.origin, follower.watcher)) === 'delivered') await settle();
  else follower.deliver(settle);
}

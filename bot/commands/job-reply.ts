/**
 * Starting a job from a command and following it in the chat: one progress message edited as the job
 * moves (queued, position N → building → booting → done), then the result, summary first.
 */
import type { Logger } from '../../config/logger.ts';
import type { JobOrigin, JobProgress, JobRequest, JobResult } from '../../jobs/contracts.ts';
import { refusalText } from '../../jobs/limits.ts';
import type { JobWatcher } from '../../jobs/queue.ts';
import type { MessageRef } from '../capabilities.ts';
import type { Result } from '../failure.ts';
import type { ConversationRef } from '../message.ts';
import { type RichMessage, textMessage } from '../rich-message.ts';
import { type CommandContext, type JobQueueClient, ok, type Replies } from './command.ts';

const LOG_TAIL_LINES = 40;

export function progressText(jobId: string, progress: JobProgress): string {
  const stage =
    progress.stage === 'queued'
      ? `queued (position ${progress.position ?? 1})`
      : progress.stage === 'preparing'
        ? 'waiting for the kernel tree to be prepared (after a fresh install this takes several minutes)'
        : (progress.detail ?? progress.stage);
  return `[job ${jobId}] ${stage}`;
}

function doneText(result: JobResult): string {
  const stopped = result.summary.startsWith('⏹');
  return `[job ${result.jobId}] ${stopped ? 'stopped' : `done in ${(result.durationMs / 1000).toFixed(1)} s`}`;
}

/** The result as a chat message: the summary, the errors or kernel log lines as code, then pointers. */
export function resultMessage(
  result: JobResult,
  kind: JobRequest['kind'],
  prefix: string,
  reusedFrom: string | null = null,
): RichMessage {
  const details: string[] = [];
  const body = result.body.trim();
  const code = kind !== 'check-config' && body !== '' ? { language: 'text', text: body } : undefined;
  if (kind === 'check-config' && body !== '') details.push(...body.split('\n'));
  if (result.outcome !== 'compile-error' && result.warnings > 0) {
    details.push(`${result.warnings} warning${result.warnings === 1 ? '' : 's'}.`);
  }
  if (reusedFrom) details.push(`Same request as job ${reusedFrom}: I reused its result.`);
  if (result.fullLog.trim() !== '') details.push(`${prefix}log ${result.jobId} shows the full log.`);
  return { lead: result.summary, ...(code ? { code } : {}), details, sources: [] };
}

export function logMessage(result: JobResult, wholeLog: boolean): RichMessage {
  const lines = result.fullLog.trimEnd().split('\n');
  if (wholeLog || lines.length <= LOG_TAIL_LINES) {
    return {
      lead: `Full log of job ${result.jobId}:`,
      code: { language: 'text', text: lines.join('\n') },
      details: [],
      sources: [],
    };
  }
  const file = { name: `job-${result.jobId}.log`, text: `${lines.join('\n')}\n` };
  return {
    lead: `The last ${LOG_TAIL_LINES} of ${lines.length} lines of job ${result.jobId}’s log:`,
    code: { language: 'text', text: lines.slice(-LOG_TAIL_LINES).join('\n') },
    details: [`(The whole log is in the attached ${file.name}.)`],
    sources: [],
    file,
  };
}

/** A job the chat still owes a result: enough to finish it after a restart of the bot. */
export interface OwedJob {
  jobId: string;
  kind: JobRequest['kind'];
  origin: JobOrigin;
  /** The user's message, which the result replies to, and its conversation. */
  conversation: ConversationRef;
  replyTo: string;
  /** The progress message, edited to "done" at the end. */
  progress: MessageRef;
  prefix: string;
  submittedAt: number;
}

/** Where owed jobs are remembered until their result is sent (bot/chat-ledger.ts keeps them). */
export interface JobObligations {
  owe(job: OwedJob): Promise<void>;
  settle(jobId: string): Promise<void>;
}

/**
 * Follows one job in the chat: its progress message edited as the job moves (one edit at a time, in
 * order, only when the text changed), then "done" and the result. `progressSent` resolves with the
 * progress message once it is out.
 */
function followJob(replies: Replies, kind: JobRequest['kind'], prefix: string, log: Logger) {
  const progressSent = Promise.withResolvers<MessageRef>();
  progressSent.promise.catch(() => {});
  const finished = Promise.withResolvers<JobResult>();
  let jobId = '';
  let shown = '';
  let edits: Promise<unknown> = progressSent.promise;
  const show = (text: string) => {
    edits = edits
      .then(async () => {
        if (text === shown) return;
        shown = text;
        await replies.edit(await progressSent.promise, textMessage(text));
      })
      .catch((error: unknown) => log.warn({ err: error, jobId }, 'could not edit a job progress message'));
  };
  const watcher: JobWatcher = {
    progress: (progress) => show(progressText(jobId, progress)),
    result: (result) => finished.resolve(result),
  };
  /** Sends the result once it is there; then `done` runs (the obligation is settled). */
  const deliver = (done: () => Promise<void>) =>
    replies.track(
      finished.promise.then(async (result) => {
        show(doneText(result));
        await edits;
        await replies.send(resultMessage(result, kind, prefix));
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
  context: CommandContext,
  request: JobRequest,
  notes: string[] = [],
): Promise<Result<RichMessage | null>> {
  const { jobs, replies, prefix, log } = context;
  if (!jobs || !replies) {
    return ok(
      textMessage('I can’t run builds here: the job queue is not available. The operator’s log says why.'),
    );
  }
  const follower = followJob(replies, request.kind, prefix, log);
  const submission = await jobs.queue.submit(request, context.origin, follower.watcher);
  if (!submission.ok) return ok(textMessage(refusalText(submission.refusal, prefix)));
  const { jobId } = submission;
  if (submission.status === 'cached') {
    return ok(resultMessage(submission.result, request.kind, prefix, jobId));
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

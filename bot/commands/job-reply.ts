/**
 * Starting a job from a command and following it in the chat: one progress message edited as the job
 * moves (queued, position N → building → booting → done), then the result, summary first.
 */
import type { JobProgress, JobRequest, JobResult } from '../../jobs/contracts.ts';
import { refusalText } from '../../jobs/limits.ts';
import type { MessageRef } from '../capabilities.ts';
import type { Result } from '../failure.ts';
import { type RichMessage, textMessage } from '../rich-message.ts';
import { type CommandContext, ok } from './command.ts';

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

/**
 * Submits the request and follows it: refusals and reused results are the command's reply; otherwise
 * the progress message and the result are sent through `replies`, and the command replies nothing more.
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
  const sent = Promise.withResolvers<MessageRef>();
  const finished = Promise.withResolvers<JobResult>();
  let jobId = '';
  let shown = '';
  // Edits go out one at a time, in order, and only when the text changed.
  let edits: Promise<unknown> = sent.promise;
  const show = (text: string) => {
    edits = edits
      .then(async () => {
        if (text === shown) return;
        shown = text;
        await replies.edit(await sent.promise, textMessage(text));
      })
      .catch((error: unknown) => log.warn({ err: error, jobId }, 'could not edit a job progress message'));
  };
  const submission = await jobs.queue.submit(request, context.origin, {
    progress: (progress) => show(progressText(jobId, progress)),
    result: (result) => finished.resolve(result),
  });
  if (!submission.ok) return ok(textMessage(refusalText(submission.refusal, prefix)));
  jobId = submission.jobId;
  if (submission.status === 'cached') {
    return ok(resultMessage(submission.result, request.kind, prefix, submission.jobId));
  }
  const first =
    submission.status === 'queued'
      ? progressText(jobId, { stage: 'queued', position: submission.position })
      : progressText(jobId, submission.progress);
  shown = first;
  const firstMessage = textMessage(`${first} · ${prefix}cancel ${jobId} stops it`, notes);
  replies
    .send(firstMessage)
    .then(sent.resolve)
    .catch((error: unknown) => {
      log.warn({ err: error, jobId }, 'could not send a job progress message');
      sent.reject(error);
    });
  sent.promise.catch(() => {});
  replies.track(
    finished.promise.then(async (result) => {
      show(doneText(result));
      await edits;
      await replies.send(resultMessage(result, request.kind, prefix));
    }),
  );
  return { ok: true, value: null };
}

/** `!log`'s text: everything in the terminal, the tail elsewhere (until attachments are sent). */
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

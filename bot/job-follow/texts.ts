/** What a job looks like in chat: its progress line, its result (summary first) and its log. */
import { plural } from '../../config/words.ts';
import type { JobProgress, JobRequest, JobResult } from '../../jobs/contracts.ts';
import type { RichMessage } from '../chat/rich-message.ts';

const LOG_TAIL_LINES = 40;
/**
 * A result shows at most this much of its output, on every platform (a module can flood the console
 * with thousands of lines): its first and last lines, the middle left to `!log`.
 */
const RESULT_HEAD_LINES = 20;
const RESULT_TAIL_LINES = 20;
const RESULT_LINE_CHARS = 200;
const RESULT_MAX_CHARS = (RESULT_HEAD_LINES + RESULT_TAIL_LINES) * RESULT_LINE_CHARS;

/** `body` whole when it is short, else its first and last lines (long ones cut) around a note. */
export function resultExcerpt(body: string): string {
  const lines = body.split('\n');
  const maxLines = RESULT_HEAD_LINES + RESULT_TAIL_LINES;
  if (lines.length <= maxLines && body.length <= RESULT_MAX_CHARS) return body;
  const cut = (line: string) =>
    line.length > RESULT_LINE_CHARS ? `${line.slice(0, RESULT_LINE_CHARS - 1)}…` : line;
  const headCount = Math.min(RESULT_HEAD_LINES, lines.length);
  const tailCount = Math.min(RESULT_TAIL_LINES, lines.length - headCount);
  const head = lines.slice(0, headCount).map(cut);
  const tail = lines.slice(lines.length - tailCount).map(cut);
  const omitted = lines.length - headCount - tailCount;
  const note = omitted > 0 ? [`[… ${plural(omitted, 'more line')} not shown]`] : [];
  return [...head, ...note, ...tail].join('\n');
}

export function progressText(jobId: string, progress: JobProgress): string {
  const stage =
    progress.stage === 'queued'
      ? `queued (position ${progress.position ?? 1})`
      : progress.stage === 'preparing'
        ? 'waiting for the kernel tree to be prepared (after a fresh install this takes several minutes)'
        : (progress.detail ?? progress.stage);
  return `[job ${jobId}] ${stage}`;
}

export function doneText(result: JobResult): string {
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
  const code =
    kind !== 'check-config' && body !== '' ? { language: 'text', text: resultExcerpt(body) } : undefined;
  if (kind === 'check-config' && body !== '') details.push(...body.split('\n'));
  if (result.outcome !== 'compile-error' && result.warnings > 0) {
    details.push(`${plural(result.warnings, 'warning')}.`);
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

/**
 * `!log <job>`: the full compiler (and QEMU console) log of a finished job. A log shows the user's code
 * and paths, so it goes to the job's owner and to admins only, and a job started in a direct message
 * keeps its log in that conversation.
 */
import { type JobOrigin, sameUser } from '../../jobs/contracts.ts';
import { parseJobId } from '../../jobs/queue/job-id.ts';
import { textMessage } from '../chat/rich-message.ts';
import { logMessage } from '../job-follow/texts.ts';
import { type Command, ok } from './command.ts';

/** Why `reader` may not see the log of `owner`'s job here; null when they may. */
function refusal(jobId: string, owner: JobOrigin, reader: JobOrigin, isAdmin: boolean): string | null {
  if (owner.isDirect) {
    if (owner.platform === reader.platform && owner.room === reader.room) return null;
    return sameUser(owner, reader)
      ? `Job ${jobId} was started in a direct message; ask me for its log there, so it stays private.`
      : `Job ${jobId} was started by someone else in a direct message; its log stays there.`;
  }
  if (sameUser(owner, reader) || isAdmin) return null;
  return `Job ${jobId} was started by someone else; only they (or an admin) can read its log.`;
}

export const logCommand: Command = {
  name: 'log',
  usage: '<job>',
  summary: 'the full log of a build or check of yours',
  async run({ args, jobs, origin, isAdmin, prefix }) {
    const jobId = parseJobId(args);
    if (!jobId) return ok(textMessage(`Which job? Give its id, like ${prefix}log b7k2x.`));
    if (!jobs) return ok(textMessage('I have no job logs here: the job queue is not available.'));
    const [owner, result] = await Promise.all([jobs.queue.origin(jobId), jobs.queue.result(jobId)]);
    if (!owner) {
      // A result whose owner is no longer known (kept from before owners were recorded) is nobody's.
      return ok(
        textMessage(
          result
            ? `I can’t tell who started job ${jobId}, so I don’t show its log.`
            : `I have no log for job ${jobId}: it is unknown or expired.`,
        ),
      );
    }
    const refused = refusal(jobId, owner, origin, isAdmin);
    if (refused) return ok(textMessage(refused));
    if (!result) {
      return ok(
        textMessage(
          `I have no log for job ${jobId}: it is still queued or running, or it ended without one.`,
        ),
      );
    }
    if (result.fullLog.trim() === '') return ok(textMessage(`Job ${jobId} left no log: ${result.summary}`));
    return ok(logMessage(result, origin.platform === 'terminal'));
  },
};

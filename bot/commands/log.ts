/** `!log <job>`: the full compiler (and QEMU console) log of a finished job. */
import { parseJobId } from '../../jobs/job-id.ts';
import { textMessage } from '../rich-message.ts';
import { type Command, ok } from './command.ts';
import { logMessage } from './job-reply.ts';

export const logCommand: Command = {
  name: 'log',
  usage: '<job>',
  summary: 'the full log of a build or check',
  async run({ args, jobs, origin, prefix }) {
    const jobId = parseJobId(args);
    if (!jobId) return ok(textMessage(`Which job? Give its id, like ${prefix}log b7k2x.`));
    if (!jobs) return ok(textMessage('I have no job logs here: the job queue is not available.'));
    const result = await jobs.queue.result(jobId);
    if (!result) {
      return ok(textMessage(`I have no log for job ${jobId}: it is still running, or unknown, or expired.`));
    }
    if (result.fullLog.trim() === '') return ok(textMessage(`Job ${jobId} left no log: ${result.summary}`));
    return ok(logMessage(result, origin.platform === 'terminal'));
  },
};

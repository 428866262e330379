/** `!cancel <job>`: removes a queued job, or stops a running one. */
import { parseJobId } from '../../jobs/queue/job-id.ts';
import { textMessage } from '../chat/rich-message.ts';
import { type Command, ok } from './command.ts';

export const cancelCommand: Command = {
  name: 'cancel',
  usage: '<job>',
  summary: 'stop a queued or running job of yours',
  async run({ args, jobs, origin, prefix }) {
    const jobId = parseJobId(args);
    if (!jobId) return ok(textMessage(`Which job? Give its id, like ${prefix}cancel b7k2x.`));
    if (!jobs) return ok(textMessage('There is nothing to cancel: the job queue is not available.'));
    return ok(textMessage(await jobs.queue.cancel(jobId, origin.userId)));
  },
};

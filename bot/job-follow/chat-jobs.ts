/**
 * What following a job in chat needs from around it: the queue as the chat side uses it, somewhere to
 * send later replies, and a record of the jobs still owed a result (bot/dispatch/chat-ledger.ts keeps
 * them), so that a restarted bot still delivers every result.
 */
import type { Config } from '../../config/schema.ts';
import type { JobOrigin, JobRequest, JobResult } from '../../jobs/contracts.ts';
import type { JobWatcher, Submission } from '../../jobs/queue/queue.ts';
import type { MessageRef } from '../chat/capabilities.ts';
import type { ConversationRef } from '../chat/message.ts';
import type { RichMessage } from '../chat/rich-message.ts';

/**
 * Messages answering the command's message, sent whenever there is something to say
 * (bot/dispatch/reply-channel.ts builds them).
 */
export interface Replies {
  /**
   * Sends a reply to the command's message. `once` names a send that may be retried after a restart (a
   * job's result): sent again under the same name, it is not posted twice where the platform can tell.
   */
  send(content: RichMessage, options?: { once?: string }): Promise<MessageRef>;
  edit(ref: MessageRef, content: RichMessage): Promise<void>;
  /** More replies come until `work` settles: an adapter that ends (the piped terminal) waits for it. */
  track(work: Promise<unknown>): void;
  /** Where jobs still owed a result are remembered, so a restarted bot delivers them. */
  obligations?: JobObligations;
}

/** The job queue as commands use it (jobs/queue/queue.ts's JobQueue). */
export interface JobQueueClient {
  submit(request: JobRequest, origin: JobOrigin, watcher: JobWatcher): Promise<Submission>;
  cancel(jobId: string, userId: string): Promise<string>;
  result(jobId: string): Promise<JobResult | null>;
  origin(jobId: string): Promise<JobOrigin | null>;
  follow(jobId: string, origin: JobOrigin, watcher: JobWatcher): Promise<'following' | 'delivered'>;
}

export interface Jobs {
  queue: JobQueueClient;
  limits: Config['jobs'];
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

/** Where owed jobs are remembered until their result is sent (bot/dispatch/chat-ledger.ts keeps them). */
export interface JobObligations {
  owe(job: OwedJob): Promise<void>;
  settle(jobId: string): Promise<void>;
}

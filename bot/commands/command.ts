/** The command table: every chat command is one entry, so later ones (`!build`, `!log`, …) just register. */
import type { Logger } from '../../config/logger.ts';
import type { Config } from '../../config/schema.ts';
import type { ActivityLog } from '../../jobs/activity.ts';
import type { JobOrigin, JobRequest, JobResult } from '../../jobs/contracts.ts';
import type { JobWatcher, Submission } from '../../jobs/queue.ts';
import type { KnowledgeService } from '../../knowledge/answer-types.ts';
import type { AttachmentFetcher, MessageRef } from '../capabilities.ts';
import type { ConversationMemory } from '../conversation-memory.ts';
import type { Result } from '../failure.ts';
import type { IncomingMessage } from '../message.ts';
import type { RichMessage } from '../rich-message.ts';
import type { DigestPreviews } from './digest.ts';
import type { JobObligations } from './job-reply.ts';

export interface CommandContext {
  message: IncomingMessage;
  /** The cleaned text after the command name (for a plain question: the whole message). */
  args: string;
  knowledge: KnowledgeService;
  memory: ConversationMemory;
  commands: CommandTable;
  /** The configured command prefix, for hints that name other commands. */
  prefix: string;
  log: Logger;
  /** Replies after the command returned (job progress and results); null where the adapter cannot. */
  replies: Replies | null;
  attachments: AttachmentFetcher | null;
  /** The build queue; null when this bot runs without one (no Redis). */
  jobs: Jobs | null;
  /** Where a job's result goes back to. */
  origin: JobOrigin;
  /** The sender is an admin (chat.admins; the terminal always is). */
  isAdmin: boolean;
  /** Questions are recorded here for the digest; null when nothing is recorded (no Redis). */
  activity: ActivityLog | null;
  /** The weekly digest, for `!digest preview`; null when it is not set up. */
  digest: DigestPreviews | null;
}

/** Messages in the conversation of the command, sent whenever there is something to say. */
export interface Replies {
  send(content: RichMessage): Promise<MessageRef>;
  edit(ref: MessageRef, content: RichMessage): Promise<void>;
  /** More replies come until `work` settles: an adapter that ends (the piped terminal) waits for it. */
  track(work: Promise<unknown>): void;
  /** Where jobs still owed a result are remembered, so a restarted bot delivers them; none in the terminal. */
  obligations?: JobObligations;
}

/** The job queue as commands use it (jobs/queue.ts's JobQueue). */
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

export interface Command {
  name: string;
  /** What follows the name, as help shows it: `<question>`, `[topic]`. */
  usage: string;
  summary: string;
  /** Takes pasted code or a config: its messages may be as long as the router's code cap. */
  takesCode?: boolean;
  /** The reply, or null when the command already sent its replies itself (through `replies`). */
  run(context: CommandContext): Promise<Result<RichMessage | null>>;
}

export class CommandTable {
  readonly #commands = new Map<string, Command>();

  constructor(commands: Command[]) {
    for (const command of commands) this.register(command);
  }

  register(command: Command): void {
    if (this.#commands.has(command.name)) throw new Error(`command ${command.name} registered twice`);
    this.#commands.set(command.name, command);
  }

  get(name: string): Command | undefined {
    return this.#commands.get(name.toLowerCase());
  }

  all(): Command[] {
    return [...this.#commands.values()];
  }
}

/** A reply that cannot fail. */
export function ok(message: RichMessage): Result<RichMessage> {
  return { ok: true, value: message };
}

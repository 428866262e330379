/** The command table: every chat command is one entry, so later ones (`!build`, `!log`, …) just register. */
import type { Logger } from '../../config/logger.ts';
import type { Result } from '../../config/result.ts';
import type { ActivityLog } from '../../jobs/activity.ts';
import type { JobOrigin } from '../../jobs/contracts.ts';
import type { KnowledgeService } from '../../knowledge/answer-types.ts';
import type { AttachmentFetcher } from '../chat/capabilities.ts';
import type { ConversationMemory } from '../chat/conversation-memory.ts';
import type { IncomingMessage } from '../chat/message.ts';
import type { RichMessage } from '../chat/rich-message.ts';
import type { DigestPreviews } from '../digest/previews.ts';
import type { Jobs, Replies } from '../job-follow/chat-jobs.ts';

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

/** The command table: every chat command is one entry, so later ones (`!build`, `!log`, …) just register. */
import type { Logger } from '../../config/logger.ts';
import type { KnowledgeService } from '../../knowledge/answer-types.ts';
import type { ConversationMemory } from '../conversation-memory.ts';
import type { Result } from '../failure.ts';
import type { IncomingMessage } from '../message.ts';
import type { RichMessage } from '../rich-message.ts';

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
}

export interface Command {
  name: string;
  /** What follows the name, as help shows it: `<question>`, `[topic]`. */
  usage: string;
  summary: string;
  run(context: CommandContext): Promise<Result<RichMessage>>;
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

/**
 * Decides whether a message is for the bot, and which command answers it. Platform-neutral: adapters
 * hand it IncomingMessages and render the RichMessage it returns; it never throws.
 */

import { isAdmin } from '../../config/admins.ts';
import { closestMatches } from '../../config/closest.ts';
import type { Logger } from '../../config/logger.ts';
import type { Failure } from '../../config/result.ts';
import type { Config } from '../../config/schema.ts';
import type { ActivityLog } from '../../jobs/activity.ts';
import type { JobOrigin } from '../../jobs/contracts.ts';
import type { KnowledgeService } from '../../knowledge/answer-types.ts';
import { ConversationMemory } from '../chat/conversation-memory.ts';
import { cleanIncomingText, DEFAULT_MAX_MESSAGE_CHARS } from '../chat/input.ts';
import { conversationKey, type IncomingMessage } from '../chat/message.ts';
import { type RichMessage, textMessage } from '../chat/rich-message.ts';
import { shorten } from '../chat/shorten.ts';
import { askCommand } from '../commands/ask.ts';
import { type Command, type CommandContext, CommandTable } from '../commands/command.ts';
import { defaultCommands } from '../commands/index.ts';
import type { DigestPreviews } from '../digest/previews.ts';
import type { Jobs } from '../job-follow/chat-jobs.ts';
import type { ReplyChannel } from './reply-channel.ts';

export type { ChatSurface } from './reply-channel.ts';

export interface RouterOptions {
  knowledge: KnowledgeService;
  /** `admins` (chat.admins): none when absent. */
  chat: Pick<Config['chat'], 'commandPrefix' | 'botName'> & { admins?: readonly string[] };
  log: Logger;
  /** Longer messages are cut to this many characters, and the reply says so. */
  maxMessageChars?: number;
  /** Default: help, ask, faq, sources and the job commands. */
  commands?: Command[];
  /** The build queue; without it the job commands say builds are not available. */
  jobs?: Jobs | null;
  /** Where questions are recorded for the digest. */
  activity?: ActivityLog | null;
  digest?: DigestPreviews | null;
}

export interface Router {
  /**
   * The reply to send, or null when the message is not for the bot (or the command replied itself).
   * `channel` is the message's reply channel (the dispatcher builds it). Without one, no replies come
   * after the returned one, and the sender counts as the operator at the terminal.
   */
  handle(message: IncomingMessage, channel?: ReplyChannel): Promise<RichMessage | null>;
  /** A command, a mention or a DM: what `handle` answers (an unknown "!word" in a channel aside). */
  isForBot(message: IncomingMessage): boolean;
  readonly commands: CommandTable;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function createRouter(options: RouterOptions): Router {
  const { knowledge, log } = options;
  const prefix = options.chat.commandPrefix;
  const admins = options.chat.admins ?? [];
  const maxChars = options.maxMessageChars ?? DEFAULT_MAX_MESSAGE_CHARS;
  const commands = new CommandTable(options.commands ?? defaultCommands());
  const memory = new ConversationMemory();
  // "rfl-onboard: why …" / "@rfl-onboard, why …": the name is how the user addressed us, not the question.
  const leadingMention = new RegExp(
    `^\\s*@?${escapeRegExp(options.chat.botName)}(?=$|[\\s:,])[:,]?\\s*`,
    'i',
  );

  /** Logged at error unless it is the user's mistake: error means something is wrong with the bot. */
  const failureReply = (failure: Failure, message: IncomingMessage) => {
    log[failure.userMistake ? 'info' : 'error'](
      {
        err: failure.detail,
        messageId: message.id,
        conversation: message.conversation,
        author: message.author.id,
      },
      failure.logText,
    );
    return textMessage(failure.userText);
  };

  async function run(command: Command, context: CommandContext): Promise<RichMessage | null> {
    try {
      const result = await command.run(context);
      return result.ok ? result.value : failureReply(result.failure, context.message);
    } catch (error) {
      const failure = {
        userText: 'Sorry, something went wrong on my side. Please try again in a little while.',
        logText: `the ${command.name} command crashed`,
        detail: error,
      };
      return failureReply(failure, context.message);
    }
  }

  function unknownCommand(name: string, addressed: boolean): RichMessage | null {
    const [suggestion] = closestMatches(
      name,
      commands.all().map((command) => command.name),
    );
    // In a channel, "!!!" or "!important" is chatter, not a typo of ours.
    if (!suggestion && !addressed) return null;
    return textMessage(
      `I don’t know the command ${prefix}${shorten(name, 30)}.`,
      suggestion ? [`Did you mean ${prefix}${suggestion}?`] : [`${prefix}help lists what I can do.`],
    );
  }

  function clean(raw: string, cap: number) {
    return cleanIncomingText(raw, { maxChars: cap, helpCommand: `${prefix}help` });
  }

  /** "!" followed by a space is punctuation, not a command: "! why does this fail" is a question. */
  const commandParts = (text: string) => /^(\S*)\s*([\s\S]*)$/.exec(text.slice(prefix.length)) ?? [];

  const withoutMention = (message: IncomingMessage) =>
    message.mentionsBot ? message.text.replace(leadingMention, '') : message.text;

  function isForBot(message: IncomingMessage): boolean {
    return message.isDirect || message.mentionsBot || withoutMention(message).trimStart().startsWith(prefix);
  }

  async function handle(message: IncomingMessage, via?: ReplyChannel): Promise<RichMessage | null> {
    const raw = withoutMention(message);
    const addressed = message.isDirect || message.mentionsBot;
    if (!isForBot(message)) return null;

    let cleaned = clean(raw, maxChars);
    if (!cleaned.ok) return failureReply(cleaned.failure, message);
    // Code and configs are longer than questions: commands that take them read up to the code cap.
    const codeChars = (options.jobs?.limits.maxSourceKb ?? 0) * 1024;
    if (cleaned.value.truncated && codeChars > maxChars) {
      const [, name = ''] = commandParts(cleaned.value.text);
      if (cleaned.value.text.startsWith(prefix) && commands.get(name)?.takesCode)
        cleaned = clean(raw, codeChars);
      if (!cleaned.ok) return failureReply(cleaned.failure, message);
    }
    const { text, truncated } = cleaned.value;

    const channel = via ?? null;
    const origin: JobOrigin = {
      userId: message.author.id,
      platform: channel?.platform ?? 'terminal',
      room: message.conversation.roomId,
      conversation: conversationKey(message.conversation),
      isDirect: message.isDirect,
    };
    const base = {
      message,
      knowledge,
      memory,
      commands,
      prefix,
      log,
      replies: channel,
      attachments: channel?.attachments ?? null,
      jobs: options.jobs ?? null,
      origin,
      // The terminal is the operator's own; elsewhere chat.admins names the user (config/admins.ts).
      isAdmin: origin.platform === 'terminal' || isAdmin(admins, origin.platform, origin.userId),
      activity: options.activity ?? null,
      digest: options.digest ?? null,
    };
    const [, name = '', args = ''] = commandParts(text);
    let reply: RichMessage | null = null;
    if (text.startsWith(prefix) && name !== '') {
      const command = commands.get(name);
      reply = command ? await run(command, { ...base, args }) : unknownCommand(name, addressed);
    } else if (addressed) {
      reply = await run(askCommand, { ...base, args: text });
    }
    if (reply && truncated) {
      const note = `(Your message was long, so I only read its first ${maxChars} characters.)`;
      reply = { ...reply, details: [...reply.details, note] };
    }
    return reply;
  }

  return { handle, isForBot, commands };
}

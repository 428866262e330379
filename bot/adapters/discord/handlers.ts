/**
 * What the bot does on each Discord event, through the dispatcher: a message is asked (its thread named
 * after it while it is handled), an edit re-runs it, a deletion removes its replies, a reaction on one of
 * the bot's replies counts for that reply's answer. Slash commands are acknowledged at once (a deferred
 * reply: Discord drops interactions not acknowledged within 3 s) and answered by editing that reply, with
 * follow-ups for further messages; buttons give feedback, cancel a job, or retry a question (only its asker may).
 */
import {
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Client,
  type Interaction,
  type Message,
  MessageFlags,
  type PartialMessage,
  type RepliableInteraction,
} from 'discord.js';
import type { MessageEditor, MessageSender } from '../../chat/capabilities.ts';
import type { IncomingMessage } from '../../chat/message.ts';
import type { Dispatcher, DispatchSurface } from '../../dispatch/dispatcher.ts';
import { parseButtonId } from './buttons.ts';
import { type DiscordChannels, interactionDestination } from './channels.ts';
import {
  attachmentsOf,
  type DiscordSelf,
  interactionQuestion,
  isTextEdit,
  toIncomingMessage,
} from './intake.ts';
import type { AttachmentUrls, SentReplies } from './memory.ts';
import { slashCommandText } from './slash-commands.ts';
import type { DiscordSurface } from './surface.ts';

export interface DiscordHandlersOptions {
  /** For the question a Retry button asks again. */
  client: Client;
  dispatcher: Dispatcher;
  /** The router's command prefix, for the commands slash commands and buttons stand for. */
  commandPrefix: string;
  self: DiscordSelf;
  surface: DiscordSurface;
  /** What the dispatcher answers channel messages through (discordDispatchSurface). */
  dispatchSurface: DispatchSurface;
  channels: DiscordChannels;
  replies: SentReplies;
  attachmentUrls: AttachmentUrls;
}

const EPHEMERAL = { flags: MessageFlags.Ephemeral } as const;

export class DiscordHandlers {
  readonly #options: DiscordHandlersOptions;

  constructor(options: DiscordHandlersOptions) {
    this.#options = options;
  }

  #incoming(message: Message): IncomingMessage | null {
    return toIncomingMessage(message, this.#options.self, this.#options.attachmentUrls);
  }

  async message(message: Message): Promise<void> {
    const { channels, dispatcher, dispatchSurface } = this.#options;
    const question = this.#incoming(message);
    if (!question) return;
    const { threadId } = question.conversation;
    if (threadId === message.id) channels.nameThread(threadId, question.text);
    try {
      await dispatcher.message(question, dispatchSurface);
    } finally {
      if (threadId) channels.forgetThreadName(threadId);
    }
  }

  /** An update: only a changed text is an edit, re-run as of its edit time. */
  async edited(before: Message | PartialMessage, after: Message | PartialMessage): Promise<void> {
    if (!isTextEdit(before, after)) return;
    const edited = this.#incoming(after);
    if (edited)
      await this.#options.dispatcher.edited(
        edited,
        this.#options.dispatchSurface,
        `${after.id}@${after.editedTimestamp}`,
      );
  }

  /** A deleted message: its replies go too. The bot's own messages (deleted by it, or by a moderator) are not questions. */
  async deleted(message: Message | PartialMessage): Promise<void> {
    const { replies, self, dispatcher, dispatchSurface } = this.#options;
    if (replies.isBotMessage(message.id) || message.author?.id === self.id) return;
    await dispatcher.deleted(message.id, dispatchSurface);
  }

  /** A reaction on one of the bot's messages, for the reply it is part of. */
  async reaction(message: Message | PartialMessage, emoji: string | null, userId: string): Promise<void> {
    const { self, replies, dispatcher } = this.#options;
    if (!emoji || userId === self.id) return;
    const authorId = message.author?.id ?? (await message.fetch()).author.id;
    if (authorId !== self.id) return;
    await dispatcher.reacted(replies.replyIdOf(message.id), userId, emoji);
  }

  /** Slash commands and buttons; other interactions are ignored. */
  async interaction(interaction: Interaction): Promise<void> {
    if (interaction.isChatInputCommand()) await this.#slashCommand(interaction);
    else if (interaction.isButton()) await this.#button(interaction);
  }

  async #slashCommand(interaction: ChatInputCommandInteraction): Promise<void> {
    // Discord drops interactions not acknowledged within 3 s: defer before anything that takes time.
    await interaction.deferReply();
    const command = slashCommandText(interaction, this.#options.commandPrefix);
    if (!command) {
      await interaction.editReply({ content: `I don’t know /${interaction.commandName}. Try /ask.` });
      return;
    }
    const attachments = attachmentsOf(command.attachments, this.#options.attachmentUrls);
    await this.#answer(interaction, interactionQuestion(interaction, command.text, attachments));
  }

  async #button(interaction: ButtonInteraction): Promise<void> {
    const { replies, dispatcher, commandPrefix } = this.#options;
    const action = parseButtonId(interaction.customId);
    if (!action) {
      await interaction.reply({ content: 'That button no longer does anything.', ...EPHEMERAL });
      return;
    }
    if (action.kind === 'feedback') {
      await interaction.reply({ content: 'Thanks, noted.', ...EPHEMERAL });
      await dispatcher.feedback(
        replies.replyIdOf(interaction.message.id),
        interaction.user.id,
        action.rating,
      );
    } else if (action.kind === 'cancel') {
      await interaction.deferReply(EPHEMERAL);
      await this.#answer(
        interaction,
        interactionQuestion(interaction, `${commandPrefix}cancel ${action.jobId}`),
        true,
      );
    } else {
      // Read before acknowledging, to refuse privately: the question is almost always in discord.js's cache.
      const channel = await this.#options.client.channels.fetch(action.channelId).catch(() => null);
      const message = channel?.isTextBased()
        ? await channel.messages.fetch(action.messageId).catch(() => null)
        : null;
      const question = message && this.#incoming(message);
      if (!question) {
        await interaction.reply({
          content: 'I can’t find that question anymore. Please ask it again.',
          ...EPHEMERAL,
        });
        return;
      }
      // A retry runs the message as its author: nobody else may start their commands or jobs.
      if (question.author.id !== interaction.user.id) {
        await interaction.reply({
          content:
            'Only the person who asked can retry this. Ask the question yourself to get your own answer.',
          ...EPHEMERAL,
        });
        return;
      }
      await interaction.deferReply();
      await this.#answer(interaction, question);
    }
  }

  /** Runs `question` through the dispatcher and answers in the interaction's (already deferred) reply. */
  async #answer(
    interaction: RepliableInteraction,
    question: IncomingMessage,
    ephemeral = false,
  ): Promise<void> {
    const { surface, dispatcher, dispatchSurface } = this.#options;
    const destination = interactionDestination(interaction, ephemeral);
    let used = false;
    const sender: MessageSender & MessageEditor = {
      send: (to, content) => {
        used = true;
        return surface.sendTo(destination, to, content, null, null);
      },
      edit: surface.edit,
    };
    // The interaction is the event: a Retry of the same message is a new one.
    await dispatcher.message(question, { ...dispatchSurface, sender }, interaction.id);
    if (!used) await interaction.deleteReply();
  }
}

/**
 * The slash commands (`/ask`, `/build`, `/check-config`), their registration, and how an invocation
 * becomes the prefix command the router already understands, so both ways of asking share one implementation.
 */
import {
  type Attachment,
  type ChatInputCommandInteraction,
  type Client,
  InteractionContextType,
  ApplicationCommandOptionType as Option,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  Routes,
} from 'discord.js';
import type { Logger } from '../../../config/logger.ts';

const everywhere = [InteractionContextType.Guild, InteractionContextType.BotDM];

const kernelOption = {
  type: Option.String,
  name: 'kernel',
  description: 'Kernel series to use, like 6.1',
  required: false,
  max_length: 12,
} as const;

export const SLASH_COMMANDS: RESTPostAPIChatInputApplicationCommandsJSONBody[] = [
  {
    name: 'ask',
    description: 'Ask a question about Rust for Linux',
    contexts: everywhere,
    options: [
      {
        type: Option.String,
        name: 'question',
        description: 'Your question',
        required: true,
        max_length: 1500,
      },
    ],
  },
  {
    name: 'build',
    description: 'Build a Rust kernel module against a real kernel tree',
    contexts: everywhere,
    options: [
      { type: Option.Attachment, name: 'file', description: 'The module source (.rs)', required: false },
      { type: Option.String, name: 'code', description: 'The module source, pasted', required: false },
      { type: Option.Boolean, name: 'boot', description: 'Also boot a kernel and load it', required: false },
      kernelOption,
    ],
  },
  {
    name: 'check-config',
    description: 'Say why CONFIG_RUST can or cannot be enabled',
    contexts: everywhere,
    options: [
      { type: Option.Attachment, name: 'file', description: 'Your kernel .config', required: false },
      {
        type: Option.String,
        name: 'text',
        description: 'A config fragment or tool version output',
        required: false,
      },
      kernelOption,
    ],
  },
];

/** Code pasted in a slash option is fenced unless the user fenced it already. */
const fenced = (code: string, language: string) =>
  /^\s*(```|~~~)/m.test(code) ? code : `\`\`\`${language}\n${code}\n\`\`\``;

/** The prefix-command text an invocation stands for, with its attachments; null for unknown commands. */
export function slashCommandText(
  interaction: ChatInputCommandInteraction,
  prefix: string,
): { text: string; attachments: Attachment[] } | null {
  const { options } = interaction;
  const file = options.getAttachment('file');
  const attachments = file ? [file] : [];
  const kernel = options.getString('kernel');
  const kernelFlag = kernel ? ` --kernel ${kernel}` : '';
  switch (interaction.commandName) {
    case 'ask':
      return { text: `${prefix}ask ${options.getString('question', true)}`, attachments };
    case 'build': {
      const code = options.getString('code');
      const boot = options.getBoolean('boot') ? ' --boot' : '';
      return {
        text: `${prefix}build${boot}${kernelFlag}${code ? `\n${fenced(code, 'rust')}` : ''}`,
        attachments,
      };
    }
    case 'check-config': {
      const text = options.getString('text');
      return { text: `${prefix}check-config${kernelFlag}${text ? `\n${text}` : ''}`, attachments };
    }
    default:
      return null;
  }
}

/**
 * Registers the slash commands in these guilds (they appear at once), or globally when there are none
 * (Discord may take an hour). A failure is logged: the prefix commands still work.
 */
export async function registerSlashCommands(
  client: Client,
  applicationId: string,
  guildIds: readonly string[],
  log: Logger,
): Promise<void> {
  const routes =
    guildIds.length > 0
      ? guildIds.map((guildId) => Routes.applicationGuildCommands(applicationId, guildId))
      : [Routes.applicationCommands(applicationId)];
  for (const route of routes) {
    await client.rest
      .put(route, { body: SLASH_COMMANDS })
      .catch((error: unknown) => log.error({ err: error }, `could not register slash commands at ${route}`));
  }
}

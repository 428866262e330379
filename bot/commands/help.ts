/** `!help`: what the bot does and the commands it knows. */
import { kernelSeries } from '../../jobs/kernel/version.ts';
import { textMessage } from '../chat/rich-message.ts';
import { type Command, ok } from './command.ts';

function versionsLine(versions: string[]): string {
  if (versions.length === 0) return '';
  return ` I have the docs of kernel ${[...new Set(versions.map(kernelSeries))].join(', ')}.`;
}

export const helpCommand: Command = {
  name: 'help',
  usage: '',
  summary: 'this help',
  async run({ commands, knowledge, log, prefix }) {
    let versions: string[] = [];
    try {
      versions = knowledge.kernelVersions();
    } catch (error) {
      // Help must work even when the knowledge base does not: leave the versions out.
      log.warn({ err: error }, 'could not list the indexed kernel versions for help');
    }
    const usage = commands
      .all()
      .map(
        (command) =>
          `${prefix}${command.name}${command.usage ? ` ${command.usage}` : ''} — ${command.summary}`,
      );
    return ok(
      textMessage(
        `I answer questions about Rust-for-Linux from the kernel’s own docs, with links to my sources.${versionsLine(versions)}${commands.get('build') ? ' I also build your Rust kernel modules against a real kernel tree and load them into a booted kernel.' : ''}`,
        [
          ...usage,
          `Or just ask: in a direct message every message is a question; in a channel, mention me or use ${prefix}ask.`,
        ],
      ),
    );
  },
};

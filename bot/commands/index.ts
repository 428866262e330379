/** The commands the bot answers today; the router's table starts from these. */
import { askCommand } from './ask.ts';
import type { Command } from './command.ts';
import { faqCommand } from './faq.ts';
import { helpCommand } from './help.ts';
import { sourcesCommand } from './sources.ts';

export function defaultCommands(): Command[] {
  return [helpCommand, askCommand, faqCommand, sourcesCommand];
}

/** The commands the bot answers today; the router's table starts from these. */
import { askCommand } from './ask.ts';
import { buildCommand } from './build.ts';
import { cancelCommand } from './cancel.ts';
import { checkConfigCommand } from './check-config.ts';
import type { Command } from './command.ts';
import { digestCommand } from './digest.ts';
import { faqCommand } from './faq.ts';
import { helpCommand } from './help.ts';
import { logCommand } from './log.ts';
import { sampleCommand } from './sample.ts';
import { sourcesCommand } from './sources.ts';

export function defaultCommands(): Command[] {
  return [
    helpCommand,
    askCommand,
    faqCommand,
    sourcesCommand,
    buildCommand,
    sampleCommand,
    checkConfigCommand,
    logCommand,
    cancelCommand,
    digestCommand,
  ];
}

/** `!sample <name> [--boot] [--kernel 6.12]`: builds (and boots) one of the kernel's own samples/rust modules. */
import { textMessage } from '../chat/rich-message.ts';
import { startJob } from '../job-follow/follow.ts';
import { type Command, ok } from './command.ts';
import { parseJobOptions } from './job-options.ts';

export const sampleCommand: Command = {
  name: 'sample',
  usage: '<name> [--boot] [--kernel 6.12]',
  summary: 'build (and with --boot load) an in-tree Rust sample, e.g. rust_minimal',
  async run(context) {
    const options = parseJobOptions(context.args, true);
    if (!options.ok) return options;
    const { boot, kernel, words } = options.value;
    const [name] = words;
    if (!name || words.length > 1 || !/^[a-z0-9_]+$/i.test(name)) {
      return ok(
        textMessage(
          `Which sample? Name one of the kernel’s samples/rust modules, like ${context.prefix}sample rust_minimal --boot.`,
          ['An unknown name gets you the list of that kernel’s samples.'],
        ),
      );
    }
    return startJob(context, { kind: 'sample', name: name.toLowerCase().replace(/\.rs$/, ''), boot, kernel });
  },
};

/**
 * `!check-config [--kernel 6.1]` with an attached .config, or a pasted fragment or `rustc --version` /
 * `bindgen --version` / `make rustavailable` output: why Rust can or cannot be enabled, and the fix.
 */
import { MAX_INPUT_BYTES } from '../../jobs/doctor/check-config.ts';
import { extractFencedCode, fetchTextAttachment } from '../chat/code-extract.ts';
import { textMessage } from '../chat/rich-message.ts';
import { startJob } from '../job-follow/follow.ts';
import { type Command, ok } from './command.ts';
import { parseJobOptions } from './job-options.ts';

const OPTIONS_LINE = /^(\s*--kernel(?:=|\s+)\S+)?\s*/;

export const checkConfigCommand: Command = {
  name: 'check-config',
  usage: '[--kernel 6.1] <.config, fragment or tool output>',
  summary: 'say why CONFIG_RUST can or cannot be enabled, with the lines that fix it (attach or paste)',
  takesCode: true,
  async run(context) {
    const { args, message, prefix } = context;
    const fenced = extractFencedCode(args);
    // Options sit on the command line; everything after them is the config or the pasted output.
    const firstLine = fenced ? fenced.before : (args.split('\n')[0] ?? '');
    const optionText = OPTIONS_LINE.exec(firstLine)?.[1] ?? '';
    const options = parseJobOptions(optionText, false);
    if (!options.ok) return options;
    let text = fenced ? fenced.code : args.slice(optionText.length);
    const [attachment] = message.attachments;
    if (text.trim() === '' && attachment && context.attachments) {
      const fetched = await fetchTextAttachment(attachment, context.attachments, {
        maxBytes: MAX_INPUT_BYTES,
        accepts: (name) => !/\.(png|jpe?g|gif|pdf|zip|gz|xz|tar|ko|o|bin)$/.test(name),
        description: 'a kernel .config or a text file of tool output',
      });
      if (!fetched.ok) return fetched;
      text = fetched.value;
    }
    if (text.trim() === '') {
      return ok(
        textMessage(
          `Attach your kernel .config, or paste it (or a part of it) after ${prefix}check-config.`,
          ['Pasted `rustc --version`, `bindgen --version` or `make LLVM=1 rustavailable` output works too.'],
        ),
      );
    }
    return startJob(context, { kind: 'check-config', text, kernel: options.value.kernel });
  },
};

/**
 * `!build [--boot] [--kernel 6.12]` with the module in a fenced code block or an attached .rs file: builds
 * it against a real Rust-enabled kernel tree (and boots it). Without code: a minimal module to start from.
 */

import type { Result } from '../../config/result.ts';
import { minimalModule, TEMPLATE_DEFAULT_SERIES } from '../../jobs/build/module-template.ts';
import { extractFencedCode, fenceLeftOpen, fetchTextAttachment } from '../chat/code-extract.ts';
import { type RichMessage, textMessage } from '../chat/rich-message.ts';
import { startJob } from '../job-follow/follow.ts';
import { type Command, type CommandContext, ok } from './command.ts';
import { parseJobOptions } from './job-options.ts';

function templateReply(series: string | null, prefix: string): RichMessage {
  return {
    lead: `Here is a minimal Rust module for Linux ${series ?? TEMPLATE_DEFAULT_SERIES} to start from. Edit it, then send it back as ${prefix}build followed by the code in a fenced block (or attach it as a .rs file):`,
    code: { language: 'rust', text: minimalModule(series ?? TEMPLATE_DEFAULT_SERIES) },
    details: [`${prefix}build --boot also loads it into a booted kernel and shows what it printed.`],
    sources: [],
  };
}

async function source(
  context: CommandContext,
): Promise<Result<{ code: string; fileName: string | null; options: string; notes: string[] } | null>> {
  const fenced = extractFencedCode(context.args);
  if (fenced) {
    const notes = fenceLeftOpen(context.message.text)
      ? ['Your code block had no closing ``` so I built everything after the opening one.']
      : [];
    return { ok: true, value: { code: fenced.code, fileName: null, options: fenced.before, notes } };
  }
  const [attachment] = context.message.attachments;
  if (attachment && context.attachments && context.jobs) {
    const fetched = await fetchTextAttachment(attachment, context.attachments, {
      maxBytes: context.jobs.limits.maxSourceKb * 1024,
      accepts: (name) => name.endsWith('.rs'),
      description: 'a Rust source file (.rs)',
    });
    if (!fetched.ok) return fetched;
    return {
      ok: true,
      value: { code: fetched.value, fileName: attachment.name, options: context.args, notes: [] },
    };
  }
  return { ok: true, value: null };
}

export const buildCommand: Command = {
  name: 'build',
  usage: '[--boot] [--kernel 6.12] ```rust …```',
  summary:
    'build your module (fenced code or an attached .rs) against a real kernel tree; --boot also loads it',
  takesCode: true,
  async run(context) {
    const found = await source(context);
    if (!found.ok) return found;
    const options = parseJobOptions(found.value?.options ?? context.args, true);
    if (!options.ok) return options;
    const { boot, kernel, words } = options.value;
    if (!found.value) {
      if (words.length > 0) {
        return ok(
          textMessage(
            `I need the module’s code in a fenced block: ${context.prefix}build, then a line with \`\`\`rust, the code, and a line with \`\`\`.`,
            [
              `Or attach it as a .rs file. ${context.prefix}build alone gives you a minimal module to start from.`,
            ],
          ),
        );
      }
      return ok(templateReply(kernel, context.prefix));
    }
    if (found.value.code.trim() === '') {
      return ok(textMessage('That code block is empty. Put your module’s code between the fences.'));
    }
    return startJob(
      context,
      { kind: 'build', source: found.value.code, fileName: found.value.fileName, boot, kernel },
      found.value.notes,
    );
  },
};

/**
 * Buttons under the bot's Discord replies and their custom ids. An id carries everything its action needs
 * (`rfl:retry:<channel>:<message>`), so a button still works after a restart: no state is kept for it.
 */
import { type APIActionRowComponent, type APIButtonComponent, ButtonStyle, ComponentType } from 'discord.js';
import type { RichMessage } from '../../chat/rich-message.ts';
import type { Rating } from '../../dispatch/chat-ledger.ts';

export type ButtonAction =
  | { kind: 'feedback'; rating: Rating }
  /** Ask the question of that message again. */
  | { kind: 'retry'; channelId: string; messageId: string }
  | { kind: 'cancel'; jobId: string };

const ID_PREFIX = 'rfl';
const SNOWFLAKE = /^\d{1,20}$/;
const JOB_ID = /^[\w-]{1,40}$/;

export function buttonId(action: ButtonAction): string {
  switch (action.kind) {
    case 'feedback':
      return `${ID_PREFIX}:feedback:${action.rating}`;
    case 'retry':
      return `${ID_PREFIX}:retry:${action.channelId}:${action.messageId}`;
    case 'cancel':
      return `${ID_PREFIX}:cancel:${action.jobId}`;
  }
}

/** The action of a custom id, or null for ids that are not ours or are malformed. */
export function parseButtonId(customId: string): ButtonAction | null {
  const [prefix, kind, first = '', second = ''] = customId.split(':');
  if (prefix !== ID_PREFIX) return null;
  if (kind === 'feedback' && (first === 'up' || first === 'down')) return { kind, rating: first };
  if (kind === 'retry' && SNOWFLAKE.test(first) && SNOWFLAKE.test(second)) {
    return { kind, channelId: first, messageId: second };
  }
  if (kind === 'cancel' && JOB_ID.test(first)) return { kind, jobId: first };
  return null;
}

/**
 * The id of a job whose progress message this is, while it runs. Follows the progress lines of
 * bot/job-follow/texts.ts (`[job <id>] <stage>`; `done in …` or `stopped` once it ended).
 */
function runningJob(content: RichMessage): string | null {
  const match = /^\[job ([\w-]+)\] (?!done in |stopped$)/.exec(content.lead);
  return match?.[1] ?? null;
}

const button = (customId: string, label: string, emoji?: string): APIButtonComponent => ({
  type: ComponentType.Button,
  style: ButtonStyle.Secondary,
  custom_id: customId,
  label,
  ...(emoji ? { emoji: { name: emoji } } : {}),
});

/**
 * The buttons for a reply: feedback (and retry, when the question is a message that can be fetched
 * again) on answers with sources, cancel on the progress message of a running job.
 */
export function buttonsFor(
  content: RichMessage,
  question: { channelId: string; messageId: string } | null,
): APIActionRowComponent<APIButtonComponent>[] {
  const jobId = runningJob(content);
  const buttons: APIButtonComponent[] = [];
  if (jobId) {
    buttons.push(button(buttonId({ kind: 'cancel', jobId }), 'Cancel'));
  } else if (content.sources.length > 0) {
    buttons.push(
      button(buttonId({ kind: 'feedback', rating: 'up' }), 'Helpful', '👍'),
      button(buttonId({ kind: 'feedback', rating: 'down' }), 'Not helpful', '👎'),
    );
    if (question) buttons.push(button(buttonId({ kind: 'retry', ...question }), 'Retry'));
  }
  return buttons.length > 0 ? [{ type: ComponentType.ActionRow, components: buttons }] : [];
}

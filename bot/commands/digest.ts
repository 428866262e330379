/** `!digest preview`: the weekly digest so far, for whoever asks in an admin room (or at the terminal). */
import type { RichMessage } from '../rich-message.ts';
import { textMessage } from '../rich-message.ts';
import { type Command, ok } from './command.ts';

/** The digest as commands see it (jobs/digest-service.ts with the configured admin rooms). */
export interface DigestPreviews {
  preview(): Promise<RichMessage>;
  isAdminRoom(platform: string, roomId: string): boolean;
}

export const digestCommand: Command = {
  name: 'digest',
  usage: 'preview',
  summary: 'preview the weekly digest (admin rooms)',
  async run({ args, digest, origin, message, prefix }) {
    if (args.trim().toLowerCase() !== 'preview')
      return ok(textMessage(`${prefix}digest preview shows the next weekly digest so far.`));
    if (!digest) return ok(textMessage('The weekly digest is not set up on this bot (digest.enabled).'));
    const admin =
      origin.platform === 'terminal' || digest.isAdminRoom(origin.platform, message.conversation.roomId);
    if (!admin) return ok(textMessage('Digest previews are shown in the admin room only.'));
    return ok(await digest.preview());
  },
};

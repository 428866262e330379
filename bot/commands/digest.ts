import { textMessage } from '../chat/rich-message.ts';
import { type Command, ok } from './command.ts';

export const digestCommand: Command = {
  name: 'digest',
  usage: 'preview',
  summary: 'preview the weekly digest (admins)',
  async run({ args, digest, origin, isAdmin, prefix }) {
    if (args.trim().toLowerCase() !== 'preview')
      return ok(textMessage(`${prefix}digest preview shows the next weekly digest so far.`));
    if (!digest) return ok(textMessage('The weekly digest is not set up on this bot (digest.enabled).'));
    if (!isAdmin) return ok(textMessage('Digest previews are for the bot’s admins only.'));
    if (!origin.isDirect && !digest.isAdminRoom(origin.platform, origin.room))
      return ok(textMessage('Digest previews are shown in the admin room or in a direct message only.'));
    return ok(await digest.preview());
  },
};

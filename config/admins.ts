/**
 * How chat.admins names a user. Matrix ids (@name:server) and Discord ids (digits) cannot be mistaken for
 * each other, so they stand as they are; a Zulip user id is digits too, so it carries `zulip:` (an id,
 * not an email: emails change and may be hidden from bots).
 */

/** One chat.admins entry: a Matrix user id, a Discord user id, or `zulip:` and a Zulip user id. */
export const ADMIN_ID = /^(?:@[^:\s]+:\S+|\d+|zulip:\d+)$/;

/** Whether chat.admins names the user `userId` of `platform`. */
export function isAdmin(admins: readonly string[], platform: string, userId: string): boolean {
  return admins.includes(platform === 'zulip' ? `zulip:${userId}` : userId);
}

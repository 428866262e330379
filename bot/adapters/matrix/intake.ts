/**
 * Matrix events as the router's IncomingMessage: who wrote it, in which room and thread, whether it
 * mentions the bot or is a DM, and its attachment. Also which invites the bot accepts.
 */
import type { MatrixEvent, Room } from 'matrix-js-sdk';
import type { AttachmentInfo, IncomingMessage } from '../../chat/message.ts';

export interface BotIdentity {
  userId: string;
  /** The bot's display name: Element inserts it as the plain-text form of a mention. */
  displayName: string | null;
  /** Roots of the threads the bot has answered in: a message there is addressed to it. */
  threads: ReadonlySet<string>;
}

/** `@user:server`, `!room:server` or a bare server name; any one matching lets an invite in. */
export function inviteAllowed(allowlist: readonly string[], inviter: string, roomId: string): boolean {
  const inviterServer = inviter.slice(inviter.indexOf(':') + 1);
  return allowlist.some((entry) => entry === inviter || entry === roomId || entry === inviterServer);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A name as a whole word: "bot" is not mentioned by "robotics". */
const wordPattern = (name: string) => new RegExp(`(^|[^\\w@])${escapeRegExp(name)}(?![\\w-])`, 'i');

interface MessageContent {
  msgtype?: string;
  body?: string;
  filename?: string;
  url?: string;
  info?: { size?: number; mimetype?: string };
  format?: string;
  formatted_body?: string;
  'm.mentions'?: { user_ids?: string[] };
  'm.relates_to'?: { rel_type?: string; event_id?: string };
}

function mentionsBot(content: MessageContent, body: string, bot: BotIdentity): boolean {
  if (content['m.mentions']?.user_ids?.includes(bot.userId)) return true;
  if (body.includes(bot.userId)) return true;
  if (content.formatted_body?.includes(`matrix.to/#/${bot.userId}`)) return true;
  return bot.displayName !== null && wordPattern(bot.displayName).test(body);
}

/**
 * The mention the user started with ("rfl-onboard: why…", "@rfl-onboard:localhost why…"): the router
 * strips a leading bot name, but a full user id would leave ":localhost" behind.
 */
function withoutLeadingMention(body: string, bot: BotIdentity): string {
  const names = [bot.userId, bot.displayName].filter((name): name is string => name !== null);
  for (const name of names) {
    const leading = new RegExp(`^\\s*${escapeRegExp(name)}(?=$|[\\s:,])[:,]?\\s*`, 'i');
    if (leading.test(body)) return body.replace(leading, '');
  }
  return body;
}

/** A file with a caption (Matrix 1.10: `filename` set and different from `body`) has its text in body. */
function attachmentOf(eventId: string, content: MessageContent): AttachmentInfo | null {
  if (typeof content.url !== 'string' || !content.url.startsWith('mxc://')) return null;
  return {
    id: content.url,
    name: content.filename ?? content.body ?? eventId,
    mimeType: content.info?.mimetype ?? null,
    size: typeof content.info?.size === 'number' ? content.info.size : null,
  };
}

export function isDirectRoom(room: Room, directRoomIds: ReadonlySet<string>): boolean {
  return directRoomIds.has(room.roomId) || room.getInvitedAndJoinedMemberCount() === 2;
}

/** The root of the thread an event is in, from its wire content (unencrypted even in encrypted rooms). */
export function threadRootOf(event: MatrixEvent): string | undefined {
  const relation = (event.getWireContent() as MessageContent)['m.relates_to'];
  return relation?.rel_type === 'm.thread' ? relation.event_id : undefined;
}

/**
 * The event a redaction removes: `redacts`, at the top level before room version 11 and in the content
 * since. Not getAssociatedId(), which prefers any relation the sender put in the content.
 */
export function redactedEventId(redaction: MatrixEvent): string | null {
  const redacts = redaction.event.redacts ?? (redaction.getContent() as { redacts?: unknown }).redacts;
  return typeof redacts === 'string' ? redacts : null;
}

/**
 * Whether a redaction counts as its author deleting the message: sent by the message's sender, or by
 * someone allowed to redact others' events in the room. Homeservers pass other redactions on for clients
 * to check (from room version 3, a user on another server can send one for any event).
 */
export function redactionAllowed(
  room: Room,
  redactionSender: string,
  originalSender: string | null,
): boolean {
  if (redactionSender === originalSender) return true;
  const member = room.getMember(redactionSender);
  return member !== null && room.currentState.hasSufficientPowerLevelFor('redact', member.powerLevel);
}

/** The event an edit (m.replace) replaces, or null when the event is no edit. */
export function editedEventId(event: MatrixEvent): string | null {
  const relation = (event.getContent() as MessageContent)['m.relates_to'];
  return relation?.rel_type === 'm.replace' && relation.event_id ? relation.event_id : null;
}

interface MessageParts {
  id: string;
  sender: string;
  content: MessageContent;
  threadRoot: string | undefined;
}

function messageOf(
  parts: MessageParts,
  room: Room,
  bot: BotIdentity,
  isDirect: boolean,
): IncomingMessage | null {
  const { id, sender, content, threadRoot } = parts;
  if (content.msgtype === 'm.notice') return null;
  const attachment = attachmentOf(id, content);
  const bodyIsFileName = attachment && (content.filename === undefined || content.filename === content.body);
  const body = bodyIsFileName ? '' : (content.body ?? '');
  const mentioned =
    mentionsBot(content, body, bot) || (threadRoot !== undefined && bot.threads.has(threadRoot));
  return {
    id,
    conversation: { roomId: room.roomId, ...(threadRoot || !isDirect ? { threadId: threadRoot ?? id } : {}) },
    author: { id: sender, name: room.getMember(sender)?.name ?? sender },
    text: mentioned ? withoutLeadingMention(body, bot) : body,
    isDirect,
    mentionsBot: mentioned,
    attachments: attachment ? [attachment] : [],
  };
}

/**
 * The message, or null for events the router never sees: not an m.room.message, edits (m.replace, see
 * toEditedMessage), notices (bots answering bots). Outside DMs a top-level message is the root of the
 * thread the answer starts, so its conversation is that thread: follow-ups there share its memory.
 */
export function toIncomingMessage(event: MatrixEvent, room: Room, bot: BotIdentity, isDirect: boolean) {
  if (event.getType() !== 'm.room.message' || editedEventId(event)) return null;
  const id = event.getId();
  const sender = event.getSender();
  if (!id || !sender) return null;
  const content = event.getContent() as MessageContent;
  return messageOf({ id, sender, content, threadRoot: threadRootOf(event) }, room, bot, isDirect);
}

/**
 * An edit as the original message with its new text (m.new_content), in the original's conversation.
 * Null when it is no edit, or when its sender is not the original's (the homeserver does not check that).
 */
export function toEditedMessage(
  edit: MatrixEvent,
  original: MatrixEvent,
  room: Room,
  bot: BotIdentity,
  isDirect: boolean,
): IncomingMessage | null {
  const originalId = original.getId();
  const sender = edit.getSender();
  if (!originalId || editedEventId(edit) !== originalId || !sender || sender !== original.getSender())
    return null;
  const newContent = (edit.getContent() as { 'm.new_content'?: MessageContent })['m.new_content'];
  if (!newContent) return null;
  const parts = { id: originalId, sender, content: newContent, threadRoot: threadRootOf(original) };
  return messageOf(parts, room, bot, isDirect);
}

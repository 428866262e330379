/**
 * Zulip's API as the bot reads it: the event and message shapes (only the fields the bot uses) and the
 * error codes the client acts on. Kept apart from the client so that the adapter's other files can read
 * a message or an error code without depending on how requests are made.
 */

export type ZulipEventType = 'message' | 'update_message' | 'delete_message' | 'reaction';

/** A message as Zulip's message events and GET /messages carry it (the fields the bot reads). */
export interface ZulipMessage {
  id: number;
  sender_id: number;
  sender_email: string;
  sender_full_name: string;
  content: string;
  /** "stream" (a channel message) or "private" (a direct message). */
  type: 'stream' | 'private';
  stream_id?: number;
  /** The topic. */
  subject: string;
  /** The channel's name, or the direct message's participants. */
  display_recipient: string | { id: number; email: string; full_name: string }[];
  timestamp: number;
}

/** A message as GET /messages returns it: with the bot's flags on it ("mentioned", "read"). */
export type FlaggedMessage = ZulipMessage & { flags?: string[] };

export type ZulipEvent =
  | { type: 'message'; id: number; message: ZulipMessage; flags: string[] }
  | {
      type: 'update_message';
      id: number;
      message_id: number;
      message_ids: number[];
      content?: string;
      rendering_only?: boolean;
      /** Who edited (absent for edits the server makes itself, such as link previews). */
      user_id?: number;
      edit_timestamp?: number;
      /** A channel message's channel before the edit (every message in `message_ids` was there). */
      stream_id?: number;
      /** A move: the channel the messages went to (only when it changed). */
      new_stream_id?: number;
      /** A move: the topic the messages were in, and (only when it changed) the one they went to. */
      orig_subject?: string;
      subject?: string;
      /** A move: which messages went along (change_one, change_later, change_all). */
      propagate_mode?: string;
    }
  | { type: 'delete_message'; id: number; message_id?: number; message_ids?: number[] }
  | {
      type: 'reaction';
      id: number;
      op: 'add' | 'remove';
      user_id: number;
      message_id: number;
      emoji_name: string;
      emoji_code: string;
      reaction_type: string;
    }
  | { type: 'heartbeat'; id: number };

/** The server's error codes the client acts on (Zulip's "Error handling" page: check `code`, not `msg`). */
export const BAD_EVENT_QUEUE_ID = 'BAD_EVENT_QUEUE_ID';
/** Zulip's catch-all code: a message that is not there, an edit refused (too late, editing off). */
export const BAD_REQUEST = 'BAD_REQUEST';
export const RATE_LIMIT_HIT = 'RATE_LIMIT_HIT';
/** Since Zulip 8 (feature level 193); BAD_REQUEST before. */
export const REACTION_ALREADY_EXISTS = 'REACTION_ALREADY_EXISTS';

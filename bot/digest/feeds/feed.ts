/**
 * What a feed is to the digest: a configured feed, the items read from it, the state a conditional GET
 * needs next time, and the failures a fetch reports instead of throwing (each with a user-facing and a
 * log text). bot/digest/feeds/README.md says what the other files of this folder do.
 */

/** One `digest.feeds` entry. */
export interface FeedConfig {
  url: string;
  /** What users read in the digest and in failure texts ("rust-for-linux list"). */
  name: string;
}

export interface FeedItem {
  /** Atom id, RSS guid, else the link: what "already reported" is remembered by. */
  id: string;
  /** Plain text: entities decoded, HTML tags of HTML titles stripped. */
  title: string;
  /** Absolute http(s) URL, or null. */
  link: string | null;
  /** ISO 8601 (Atom published, else updated; RSS pubDate, else dc:date), or null. */
  published: string | null;
  author: string | null;
}

/** What the last good fetch answered, for the next conditional GET. */
export interface FeedState {
  etag: string | null;
  lastModified: string | null;
}

export const NO_STATE: FeedState = { etag: null, lastModified: null };

export type FeedFailureReason =
  | 'bad-url'
  | 'network'
  | 'timeout'
  | 'http'
  | 'too-large'
  | 'redirects'
  | 'malformed'
  | 'not-a-feed';

export interface FeedFailure {
  ok: false;
  reason: FeedFailureReason;
  userMessage: string;
  logMessage: string;
}

export function failure(reason: FeedFailureReason, userMessage: string, logMessage: string): FeedFailure {
  return { ok: false, reason, userMessage, logMessage };
}

/** An http(s) URL (relative to `base`), or null: a javascript: or data: link never reaches a chat message. */
export function httpUrl(text: string, base?: URL): URL | null {
  try {
    const url = new URL(text, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** An error as one line for the log, with its cause (fetch puts the socket error there). */
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause ? `${error.message}: ${[cause.code, cause.message].filter(Boolean).join(' ')}` : error.message;
}

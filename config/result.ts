/** Errors as values: what the user is told, kept apart from what the operator's log gets. */

export interface Failure {
  /** Short, friendly and non-technical: shown in the chat. */
  userText: string;
  /** Precise, for the log. */
  logText: string;
  /** The underlying error or data, logged alongside logText. */
  detail?: unknown;
}

export type Result<T> = { ok: true; value: T } | { ok: false; failure: Failure };

/** Errors as values: what the user is told, kept apart from what the operator's log gets. */

export interface Failure {
  /** Short, friendly and non-technical: shown in the chat. */
  userText: string;
  /** Precise, for the log. */
  logText: string;
  /** The underlying error or data, logged alongside logText. */
  detail?: unknown;
  /**
   * The user's mistake (a typo, a file of the wrong kind or size), nothing wrong with the bot: logged at
   * info, not error, where an operator's alerting would page on it.
   */
  userMistake?: boolean;
}

export type Result<T> = { ok: true; value: T } | { ok: false; failure: Failure };

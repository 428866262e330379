/** pino, JSON by default and pretty for a person at a terminal, with secrets redacted. */
import pino, { type Logger } from 'pino';
import type { Config } from './schema.ts';

export type { Logger };

/** Paths pino blanks out wherever they appear in a log line. */
export const REDACTED_PATHS = [
  'apiKey',
  'token',
  'accessToken',
  'password',
  '*.apiKey',
  '*.token',
  '*.accessToken',
  '*.password',
  'config.llm.apiKey',
  'headers.authorization',
  '*.headers.authorization',
];

export interface LoggerOptions {
  /** A person reads this log (the terminal chat): pretty unless logFormat says otherwise. */
  interactive?: boolean;
  /** Write to this file instead of stderr (the terminal chat keeps its screen for the conversation). */
  file?: string;
  /** Write JSON lines to this stream (tests). */
  destination?: pino.DestinationStream;
}

export function createLogger(
  config: Pick<Config, 'logLevel' | 'logFormat'>,
  options: LoggerOptions = {},
): Logger {
  const pretty =
    config.logFormat === 'pretty' || (config.logFormat === 'auto' && options.interactive === true);
  const base = { level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  if (options.destination) return pino(base, options.destination);
  const destination = options.file ?? 2;
  if (pretty) {
    const prettyOptions = { destination, colorize: options.file === undefined, ignore: 'pid,hostname' };
    return pino({ ...base, transport: { target: 'pino-pretty', options: prettyOptions } });
  }
  return pino(base, pino.destination({ dest: destination, sync: false }));
}

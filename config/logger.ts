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

export function createLogger(
  config: Pick<Config, 'logLevel' | 'logFormat'>,
  options: { interactive?: boolean; destination?: pino.DestinationStream } = {},
): Logger {
  const pretty =
    config.logFormat === 'pretty' || (config.logFormat === 'auto' && options.interactive === true);
  const base = { level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  if (options.destination) return pino(base, options.destination);
  if (pretty) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { destination: 2, ignore: 'pid,hostname' } },
    });
  }
  return pino(base, pino.destination(2));
}

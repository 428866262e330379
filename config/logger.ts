/** pino, JSON by default and pretty for a person at a terminal, with secrets redacted. */
import pino, { type Logger } from 'pino';
import { settings } from './load.ts';
import type { Config } from './schema.ts';

export type { Logger };

/** Keys that hold secrets wherever they appear, a few levels deep (SDK errors nest their requests). */
const SECRET_KEYS = [
  'apiKey',
  'token',
  'accessToken',
  'access_token',
  'password',
  'authorization',
  'Authorization',
];

/** Paths pino blanks out in a log line: the keys above, and every setting the schema marks secret. */
export const REDACTED_PATHS = [
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]),
  ...settings()
    .filter((setting) => setting.secret)
    .map((setting) => ['config', ...setting.path].join('.')),
];

/** Secrets inside text: bearer tokens, and tokens or passwords in URLs (SDKs put them in error messages). */
const SECRET_IN_TEXT = /(Bearer\s+|[?&](?:access_token|token|password)=)[^\s&"'<>]+/gi;
/**
 * A password in a URL's user info (redis://user:secret@host). Anchored on "://", and neither part can
 * run past the next "/", so the scan stays linear however the text repeats.
 */
const PASSWORD_IN_URL = /(:\/\/[^\s:/@]*:)[^\s@/]+@/g;

export function scrubSecrets(text: string): string {
  return text.replace(SECRET_IN_TEXT, '$1[redacted]').replace(PASSWORD_IN_URL, '$1[redacted]@');
}

const scrubbedError = (error: unknown) => {
  const serialized = pino.stdSerializers.err(error as Error);
  if (!serialized || typeof serialized !== 'object') return serialized;
  return {
    ...serialized,
    message: scrubSecrets(String(serialized.message ?? '')),
    stack: scrubSecrets(String(serialized.stack ?? '')),
  };
};

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
  const base: pino.LoggerOptions = {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: scrubbedError },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? scrubSecrets(arg) : arg)) as never);
      },
    },
  };
  if (options.destination) return pino(base, options.destination);
  const destination = options.file ?? 2;
  if (pretty) {
    const prettyOptions = { destination, colorize: options.file === undefined, ignore: 'pid,hostname' };
    return pino({ ...base, transport: { target: 'pino-pretty', options: prettyOptions } });
  }
  return pino(base, pino.destination({ dest: destination, sync: false }));
}

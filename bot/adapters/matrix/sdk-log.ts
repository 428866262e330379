/**
 * matrix-js-sdk's log lines, in our log. The client is given a logger of ours (`sdkLogger`), but parts
 * of the SDK log through its global loglevel loggers, which print plain text to the console: in
 * `serve` those lines broke the JSON log. `routeSdkGlobalLog` points every loglevel logger, those that
 * exist and those made later, at the same sink.
 */
import loglevel from 'loglevel';
import type { Logger } from '../../../config/logger.ts';

type SdkLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** The SDK's chatter one level down in ours: its warnings are routine for a bot, its errors warnings. */
const OURS: Record<SdkLevel, 'trace' | 'debug' | 'warn'> = {
  trace: 'trace',
  debug: 'trace',
  info: 'trace',
  warn: 'debug',
  error: 'warn',
};

const text = (parts: unknown[]) =>
  parts.map((part) => (part instanceof Error ? part.message : String(part))).join(' ');

/** The logger a MatrixClient is created with. */
export function sdkLogger(log: Logger) {
  const child = log.child({ component: 'matrix-sdk' });
  const at =
    (level: SdkLevel) =>
    (...parts: unknown[]) =>
      child[OURS[level]](text(parts));
  const logger = {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    getChild: () => logger,
  };
  return logger;
}

/** Every loglevel logger (the SDK's global one and its children) writes to `log` instead of the console. */
export function routeSdkGlobalLog(log: Logger): void {
  const child = log.child({ component: 'matrix-sdk' });
  const factory: loglevel.MethodFactory = (methodName, _level, loggerName) => {
    const level: SdkLevel = methodName in OURS ? (methodName as SdkLevel) : 'debug';
    const name = typeof loggerName === 'string' ? loggerName : String(loggerName ?? '');
    return (...parts: unknown[]) => child[OURS[level]]({ logger: name }, text(parts));
  };
  loglevel.methodFactory = factory;
  for (const named of Object.values(loglevel.getLoggers())) named.methodFactory = factory;
  loglevel.rebuild(); // the root, then every named logger, with the factories just set
}

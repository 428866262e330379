/**
 * matrix-js-sdk logs partly through its global loglevel loggers, which print plain text to the console;
 * `serve` writes JSON lines, so those must land in our log instead, from loggers made before and after.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import loglevel from 'loglevel';
import pino from 'pino';
import { routeSdkGlobalLog } from '../../bot/adapters/matrix/sdk-log.ts';

test("the SDK's global loggers write JSON lines into our log, none to the console", (context) => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).trim().split('\n'));
      done();
    },
  });
  const printed: unknown[] = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    context.mock.method(console, method, (...parts: unknown[]) => void printed.push(parts));
  }
  const earlier = loglevel.getLogger('matrix-test-earlier');
  earlier.setLevel('debug', false);
  routeSdkGlobalLog(pino({ level: 'trace' }, destination));
  const later = loglevel.getLogger('matrix-test-later');
  later.setLevel('debug', false);
  earlier.warn('[Crypto] a warning from before');
  later.error('an error from after');
  assert.deepEqual(printed, []);
  const logged = lines.map((line) => JSON.parse(line) as { msg: string; level: number; logger: string });
  assert.deepEqual(
    logged.map(({ msg, logger }) => [logger, msg]),
    [
      ['matrix-test-earlier', '[Crypto] a warning from before'],
      ['matrix-test-later', 'an error from after'],
    ],
  );
  // One level down: the SDK's warnings are debug for us, its errors warnings.
  assert.deepEqual(
    logged.map(({ level }) => level),
    [pino.levels.values.debug, pino.levels.values.warn],
  );
});

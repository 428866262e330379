/**
 * How a command ended, in words for a message. A shell (and bwrap's pid 1) reports a child killed by
 * signal N as exit status 128 + N, so such a status is named as the signal.
 */
import { constants } from 'node:os';

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name]));

/** "signal SIGSEGV" for 139 or signal "SIGSEGV", else "exit 1". */
export function describeExit(exitCode: number | null, signal: string | null = null): string {
  if (signal) return `signal ${signal}`;
  const bySignal = exitCode !== null && exitCode > 128 ? SIGNAL_NAMES.get(exitCode - 128) : undefined;
  return bySignal ? `signal ${bySignal}` : `exit ${exitCode}`;
}

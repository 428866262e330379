/**
 * Linear time, asserted without a wall-clock number: a hostile input may take at most a fixed multiple
 * of a benign input of the same size, both measured here, in the same run.
 */
import assert from 'node:assert/strict';

/**
 * How many times a benign input's time a hostile one of the same size may take. Linear code stays near
 * 1×; the quadratic patterns this guards against took hundreds of times longer at the sizes tested.
 */
const SLOWDOWN_ALLOWED = 10;
/** Milliseconds of slack for inputs that take a few milliseconds at most, where timer noise dominates. */
const NOISE_MS = 5;

/** Milliseconds for `run`, the best of three: the run least disturbed by other work on the machine. */
function bestTime(run: () => unknown): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    run();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/** `hostile` takes at most SLOWDOWN_ALLOWED times `baseline`, a linear pass over input of the same size. */
export function assertLinear(what: string, hostile: () => unknown, baseline: () => unknown): void {
  const [hostileMs, baselineMs] = [bestTime(hostile), bestTime(baseline)];
  assert.ok(
    hostileMs <= baselineMs * SLOWDOWN_ALLOWED + NOISE_MS,
    `${what}: ${hostileMs.toFixed(1)} ms, ${(hostileMs / baselineMs).toFixed(0)}× the ${baselineMs.toFixed(1)} ms linear baseline`,
  );
}

/** `unit` repeated to `chars` characters. */
export const repeatTo = (unit: string, chars: number) =>
  unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);

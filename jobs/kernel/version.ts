/** Kernel and tool versions as the project compares them: numerically, part by part, never as text. */

/** "6.1.192" -> "6.1": the series is what readers match against their kernel and what trees are built for. */
export function kernelSeries(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

/**
 * Negative, zero or positive as `a` is older than, the same as or newer than `b`. Numeric per part
 * (1.100 is newer than 1.99); a missing part counts as 0, so 6.1 equals 6.1.0.
 */
export function compareVersions(a: string, b: string): number {
  const parts = (version: string) => version.split('.').map((part) => Number.parseInt(part, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const diff = (x[i] ?? 0) - (y[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}

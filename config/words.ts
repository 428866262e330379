/** How the bot writes counts in its messages: one way for every reply, digest and chart. */

/** 12345 → "12,345". */
export function formatCount(count: number): string {
  return Math.round(count).toLocaleString('en-US');
}

/** "1 build", "2 builds", "1,204 questions", "3 replies": the count, and the word in the form it takes. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}

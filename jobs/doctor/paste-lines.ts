/**
 * A pasted .config or tool output, read line by line within fixed bounds, so that no paste, however
 * hostile, costs more than a fixed amount of work: lines longer than any real one are skipped unread,
 * and reading stops after more lines than any real .config has.
 */

/**
 * Tool output lines are under 200 characters; the longest .config lines (CONFIG_CMDLINE, firmware
 * lists, key paths) are a few KB. A longer line is not something to check.
 */
export const MAX_LINE_CHARS = 16 * 1024;
/** An allmodconfig .config has about 12,000 lines; past this many lines a paste is only partially checked. */
export const MAX_LINES = 50_000;

export interface PasteLine {
  /** 1-based, in the whole paste. */
  number: number;
  text: string;
}

export interface PasteLines {
  /** The lines read, each at most MAX_LINE_CHARS long. */
  lines: PasteLine[];
  /** 1-based numbers of lines skipped unread for being longer than MAX_LINE_CHARS. */
  overlong: number[];
  /** Reading stopped after MAX_LINES lines: the rest of the paste was not read. */
  partial: boolean;
}

export function pasteLines(text: string): PasteLines {
  const lines: PasteLine[] = [];
  const overlong: number[] = [];
  let start = 0;
  for (let number = 1; start <= text.length; number++) {
    if (number > MAX_LINES) return { lines, overlong, partial: true };
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline;
    if (end - start > MAX_LINE_CHARS) overlong.push(number);
    else lines.push({ number, text: text.slice(start, end) });
    start = end + 1;
  }
  return { lines, overlong, partial: false };
}

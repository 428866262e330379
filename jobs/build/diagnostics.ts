/**
 * rustc and kbuild output as diagnostic blocks: `error[E0425]: …` / `error: …` / `warning: …` with their
 * `-->` location and quoted source lines, up to the next block. Summary lines ("aborting due to …",
 * "N warnings emitted", "For more information …") and make's own lines end a block and are not blocks.
 */
import { stripControls } from '../../config/printable.ts';

export interface DiagnosticBlock {
  severity: 'error' | 'warning';
  /** "E0425", or null for diagnostics without a code. */
  code: string | null;
  /** The headline after "error: ". */
  message: string;
  /** "hello.rs:12:5" from the `-->` line, when there is one. */
  location: string | null;
  /** The block as rustc printed it (paths shown as the user's file name). */
  text: string;
}

const RUSTC_HEAD = /^(error|warning)(?:\[([A-Z]\d{4})\])?: (.*)$/;
const MODPOST_HEAD = /^(ERROR|WARNING): modpost: (.*)$/;
const SUMMARY = [
  /^error: aborting due to /,
  /^warning: \d+ warnings? emitted/,
  /^warning: `?[\w-]+`? \(.*\) generated \d+ warnings?/,
  /^Some errors have detailed explanations/,
  /^For more information about (this|an) error/,
];
/** make and kbuild chatter: "make[2]: ***", "  RUSTC [M] /work/x.o", "  MODPOST …". */
const BUILD_TOOL = /^(make(\[\d+\])?: |\s{2}[A-Z][A-Z0-9_]*(\s\[M\])?\s+\S)/;

/**
 * Compiler and make output as the user may see it, in a reply or the full log: rustc quotes the user's
 * source lines as they are, so their control characters and escape sequences go (stripControls), and
 * sandbox paths read as the user knows them: /work/x.rs -> x.rs, /work -> ., /kernel/src/rust/… -> linux/rust/…
 */
export function displayText(text: string): string {
  return stripControls(text)
    .replace(/\/kernel\/(?:src|build)\b/g, 'linux')
    .replace(/\/work\//g, '')
    .replace(/\/work\b/g, '.');
}

export function parseDiagnostics(output: string): DiagnosticBlock[] {
  const blocks: DiagnosticBlock[] = [];
  let current: { head: DiagnosticBlock; lines: string[] } | null = null;
  const close = () => {
    if (!current) return;
    while (current.lines.length > 1 && current.lines.at(-1)?.trim() === '') current.lines.pop();
    current.head.text = current.lines.join('\n');
    blocks.push(current.head);
    current = null;
  };
  for (const line of displayText(output).split('\n')) {
    if (SUMMARY.some((pattern) => pattern.test(line)) || BUILD_TOOL.test(line)) {
      close();
      continue;
    }
    const rustc = RUSTC_HEAD.exec(line);
    const modpost = rustc ? null : MODPOST_HEAD.exec(line);
    if (rustc || modpost) {
      close();
      const severity = (rustc?.[1] ?? modpost?.[1] ?? '').toLowerCase() === 'error' ? 'error' : 'warning';
      current = {
        head: {
          severity,
          code: rustc?.[2] ?? null,
          message: rustc?.[3] ?? modpost?.[2] ?? '',
          location: null,
          text: '',
        },
        lines: [line],
      };
      continue;
    }
    if (!current) continue;
    const location = /^\s*--> (\S+)/.exec(line);
    if (location && current.head.location === null) current.head.location = location[1] ?? null;
    current.lines.push(line);
  }
  close();
  return blocks;
}

export function countDiagnostics(blocks: DiagnosticBlock[]): { errors: number; warnings: number } {
  const errors = blocks.filter((b) => b.severity === 'error').length;
  return { errors, warnings: blocks.length - errors };
}

export interface ErrorExcerpt {
  text: string;
  shown: number;
  /** Error blocks left out to stay under maxChars. */
  omitted: number;
}

/**
 * The first error blocks, whole, joined while they fit in maxChars. The first block is always shown,
 * even when longer: a cut diagnostic is worse than a long one.
 */
export function firstErrors(blocks: DiagnosticBlock[], maxChars: number): ErrorExcerpt {
  const errors = blocks.filter((b) => b.severity === 'error');
  const shown: string[] = [];
  let length = 0;
  for (const block of errors) {
    const added = block.text.length + (shown.length > 0 ? 2 : 0);
    if (shown.length > 0 && length + added > maxChars) break;
    shown.push(block.text);
    length += added;
  }
  return { text: shown.join('\n\n'), shown: shown.length, omitted: errors.length - shown.length };
}

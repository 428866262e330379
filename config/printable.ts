/**
 * Text that came out of a sandbox (a compiler quoting the user's source, a guest's serial console) or
 * from a user (bot/chat/input.ts) made inert before it reaches a chat reply or a log: a terminal that
 * shows it must not take orders from it (OSC 52 writes the clipboard, OSC 0 the window title, BEL rings,
 * CSI moves the cursor and erases lines). The one definition of what a control character is.
 */

/* biome-ignore-start lint/suspicious/noControlCharactersInRegex: matching control characters is the point. */
/**
 * OSC, DCS, SOS, PM and APC (7-bit ESC ] P X ^ _, or their 8-bit forms): a payload up to BEL or ST. One
 * left open ends at the line's end, so it cannot swallow the kernel lines that follow it.
 */
const STRING_SEQUENCE =
  /(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x9c\n]*?(?:\x07|\x9c|\x1b\\|(?=\n)|$)/g;
/** CSI (ESC [ or 8-bit 0x9b): parameters, intermediates, one final byte. */
const CSI_SEQUENCE = /(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]/g;
/** Every other escape sequence: ESC, intermediates ("(" of a charset designation), one final byte. */
const ESC_SEQUENCE = /\x1b[\x20-\x2f]*[\x30-\x7e]/g;
/**
 * What is left: C0 controls but tab and newline, DEL, C1 controls (CR goes too: "\r\n" reads as "\n"),
 * and the bidirectional controls, which reorder what a reader sees ("Trojan Source": text that displays
 * as one thing and is another).
 */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]|\p{Bidi_Control}/gu;
/* biome-ignore-end lint/suspicious/noControlCharactersInRegex: matching control characters is the point. */

/** `text` without its escape sequences (payload included); lone control characters stay. */
export function stripEscapeSequences(text: string): string {
  return text.replace(STRING_SEQUENCE, '').replace(CSI_SEQUENCE, '').replace(ESC_SEQUENCE, '');
}

/** `text` with every control character except newline and tab removed (bidi controls too), escape sequences as a whole. */
export function stripControls(text: string): string {
  return stripEscapeSequences(text).replace(CONTROL, '');
}

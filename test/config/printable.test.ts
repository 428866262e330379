import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stripControls } from '../../config/printable.ts';
import { CONTROL_CHARACTER } from '../helpers/hostile-output.ts';

const ESC = '\x1b';
const BEL = '\x07';

test('OSC 52 (clipboard), a window title and BEL go whole, payload included; the text around stays', () => {
  assert.equal(
    stripControls(`before ${ESC}]52;c;ZXZpbA==${BEL}middle ${ESC}]0;pwned${ESC}\\after${BEL}!`),
    'before middle after!',
  );
});

test('CSI sequences (colours, cursor moves, erase) go whole, in 7-bit and 8-bit form', () => {
  assert.equal(stripControls(`${ESC}[31mred${ESC}[0m ${ESC}[2K${ESC}[1;1H${ESC}[?25lx`), 'red x');
  assert.equal(stripControls('a\u009b2Jb\u009b31mc'), 'abc');
});

test('8-bit OSC and DCS strings go up to their 8-bit or 7-bit string terminator', () => {
  assert.equal(stripControls('a\u009d0;title\u009cb\u0090qpayload\x1b\\c'), 'abc');
});

test('an escape string left open ends at the line end, so it cannot hide the lines after it', () => {
  assert.equal(stripControls(`hello: ${ESC}]0;never closed\nBUG: next line\n`), 'hello: \nBUG: next line\n');
});

test('other escape sequences, lone controls, DEL and C1 go; newline and tab stay; CR goes', () => {
  assert.equal(stripControls(`${ESC}c${ESC}(B${ESC}7a\tb\r\nc\x00\x08\x7f\u0085\u0084d${ESC}`), 'a\tb\ncd');
});

test('ordinary text, including non-ASCII, is left as it is', () => {
  const text = 'error[E0308]: mismatched types\n  --> hello.rs:3:5\n   | ^^^ expected `u32` — “ok” ✅\n';
  assert.equal(stripControls(text), text);
});

test('whatever the bytes, no control character but newline and tab survives', () => {
  const every = Array.from({ length: 0xa0 }, (_, code) => String.fromCharCode(code)).join('');
  for (const text of [every, every.split('').reverse().join(''), `${every}${ESC}[${every}${ESC}]${every}`]) {
    assert.doesNotMatch(stripControls(text), CONTROL_CHARACTER);
  }
});

test('bidirectional controls go: a line cannot display as something other than what it is', () => {
  // U+202E RIGHT-TO-LEFT OVERRIDE and U+2066 LEFT-TO-RIGHT ISOLATE, as in "Trojan Source".
  assert.equal(stripControls('rust_minimal: \u202Eevil\u202C ok \u2066x\u2069'), 'rust_minimal: evil ok x');
});

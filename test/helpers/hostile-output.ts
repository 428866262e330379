/**
 * Code whose output works against us: a source that crashes the compiler, modules that print what a
 * terminal would obey or what a crash report looks like. Shared by the build, boot and queue tests.
 */
import { minimalModule } from '../../jobs/build/module-template.ts';

/** Any control character a terminal acts on: C0 but tab and newline, DEL, C1. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: what the tests look for.
export const CONTROL_CHARACTER = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

/** The 6.1 template (module "hello") with one statement added to init(), and items after it. */
export function withInit(statement: string, topLevel = ''): string {
  return minimalModule('6.1').replace('pr_info!("Hello', `${statement}\n        pr_info!("Hello`) + topLevel;
}

/** An expression nested in 60,000 parentheses: rustc 1.63's parser overflows its stack and dies by SIGSEGV. */
export function deeplyNested(depth = 60_000): string {
  return withInit(`let _deep: u32 = ${'('.repeat(depth)}1${')'.repeat(depth)};`);
}

/** Prints OSC 52 (clipboard), OSC 0 (title), BEL and CSI (7- and 8-bit) in a line that reads
 * "clip title bell erase end" once they are gone. */
export const LOUD_PRINT =
  'pr_info!("clip\\x1b]52;c;ZXZpbA==\\x07 title\\x1b]0;pwned\\x07 bell\\x07\\x07 erase\\x1b[2J\\u{9b}2J end\\n");';

/** Prints "about to lie", then, each at the start of a line, a kernel panic, an oops and /init's step
 * markers, the status port's format included. */
export const LYING_PRINT = `pr_info!("about to lie\\n${[
  'Kernel panic - not syncing: Fatal exception',
  'BUG: kernel NULL pointer dereference, address: 0000000000000000',
  'Oops: 0000 [#1] PREEMPT',
  'rfl-boot: insmod failed (1)',
  'rfl-boot 0f1e2d3c4b5a69788796a5b4c3d2e1f0 insmod 1',
  'rfl-boot: done',
].join('\\n')}\\n");`;

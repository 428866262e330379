/**
 * The error explainer: pasted toolchain and build errors get their cause, their fix for the series the
 * user names (else the default) and a citation, whatever the paths, versions, quotes and line numbers in
 * the paste; other messages are left to retrieval; a hostile paste costs linear time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { createLogger } from '../../config/logger.ts';
import { createErrorExplainer, type ExplainedError, normalizeErrorText } from '../../knowledge/errors.ts';
import { ingestSources } from '../../knowledge/knowledge-base.ts';
import { writeKernelTree } from '../helpers/kernel-fixture.ts';
import { assertLinear, repeatTo } from '../helpers/linear-time.ts';

/** The shape of scripts/rust_is_available.sh: `echo >&2 "***"` margins around each message. */
function script(messages: string[]): string {
  const lines = ['#!/bin/sh', 'set -e'];
  for (const message of messages) {
    lines.push('if [ -z "$x" ]; then', '\techo >&2 "***"');
    for (const line of message.split('\n')) lines.push(`\techo >&2 "*** ${line}"`);
    lines.push('\techo >&2 "***"', '\texit 1', 'fi');
  }
  return `${lines.join('\n')}\n`;
}

const COMMON = [
  "Rust compiler '$RUSTC' could not be found.",
  "Rust bindings generator '$BINDGEN' could not be found.",
  "Rust compiler '$RUSTC' is too old.\n  Your version:    $v\n  Minimum version: $m",
  "Source code for the 'core' standard library could not be found\nat '$rustc_src_core'.",
];
const PINNED = [
  ...COMMON,
  "Rust compiler '$RUSTC' is too new. This may or may not work.\n  Your version:     $v\n  Expected version: $m",
];

let explain: (message: string) => ExplainedError | null;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rfl-errors-'));
  const old = writeKernelTree(join(dir, 'linux-6.1'), {
    version: '6.1.50',
    rustc: '1.62.0',
    bindgen: '0.56.0',
    configNote: 'Old.',
  });
  const current = writeKernelTree(join(dir, 'linux-6.12'), {
    version: '6.12.9',
    rustc: '1.78.0',
    bindgen: '0.65.1',
    configNote: 'New.',
  });
  writeFileSync(join(old, 'scripts/rust_is_available.sh'), script(PINNED));
  writeFileSync(join(current, 'scripts/rust_is_available.sh'), script(COMMON));
  const kb = await ingestSources(
    {
      kernelTrees: [current, old],
      defaultSeries: '6.12',
      markdownTrees: [],
      faqDir: new URL('../../knowledge/faq', import.meta.url).pathname,
      wholeDocumentation: false,
    },
    createLogger({ logLevel: 'silent', logFormat: 'json' }),
  );
  explain = createErrorExplainer(kb);
});

function explained(message: string) {
  const result = explain(message);
  assert.ok(result, `no explanation for: ${message}`);
  assert.equal(result.answer.kind, 'answer');
  assert.ok(result.answer.citations.length > 0, 'it cites what explains it');
  return { ...result.answer, sources: result.answer.citations.map((c) => c.url).join(' ') };
}

test('rustavailable failures from the 6.12 script are explained with 6.12 versions and the line that prints them', () => {
  const missing = explained(
    "***\n*** Rust compiler 'rustc' could not be found.\n***\n*** Please see Documentation/rust/quick-start.rst for details",
  );
  assert.match(missing.lead, /1\.78\.0 or newer/);
  assert.match(missing.code!.text, /rustup component add rust-src/);
  assert.match(
    missing.sources,
    /elixir\.bootlin\.com\/linux\/v6\.12\.9\/source\/scripts\/rust_is_available\.sh#L\d+/,
  );
  const bindgen = explained("*** Rust bindings generator '/opt/tools/bin/bindgen' could not be found.");
  assert.match(bindgen.lead, /bindgen 0\.65\.1 or newer/);
  assert.match(bindgen.code!.text, /cargo install --locked bindgen-cli/);
  const src = explained(
    "*** Source code for the ‘core’ standard library could not be found\n*** at '/home/me/.rustup/toolchains/1.80.1-x86_64-unknown-linux-gnu/lib/rustlib/src/rust/library/core/src/lib.rs'.",
  );
  assert.match(src.code!.text, /rustup component add rust-src/);
  assert.match(src.sources, /rust-src|quick-start|rust_is_available/);
});

test('the series the user names decides the versions in the fix', () => {
  const old = explained("On 6.1 I get: *** Rust compiler 'rustc' could not be found.");
  assert.match(old.lead, /6\.1 needs rustc 1\.62\.0 exactly/);
  assert.match(old.code!.text, /rustup override set 1\.62\.0/);
  assert.match(old.sources, /v6\.1\.50\/source\/scripts\/rust_is_available\.sh/);
  const bindgen = explained('kernel 6.1: bindgen: command not found');
  assert.match(bindgen.code!.text, /cargo install --locked --version 0\.56\.0 bindgen\b/);
});

test('"too old" names the tool and its minimum; "too new" is a warning about the series that pins versions', () => {
  const old = explained(
    "*** Rust compiler 'rustc' is too old.\n***   Your version:    1.70.0\n***   Minimum version: 1.78.0",
  );
  assert.match(old.lead, /error.*rustc.*1\.78\.0/);
  const tooNew = explained(
    "*** Rust compiler 'rustc' is too new. This may or may not work.\n***   Your version:     1.93.0\n***   Expected version: 1.62.0",
  );
  assert.match(tooNew.lead, /warning, not an error: 6\.1 expects exactly rustc 1\.62\.0/);
  assert.match(tooNew.sources, /toolchain-too-new|rust-version-policy|v6\.1\.50/);
  const said = explained('my build stops because rustc is too old, what now?');
  assert.match(said.lead, /older than the kernel accepts/);
});

test('libclang: not found, another version than clang, and a known bindgen bug', () => {
  const missing = explained(
    "thread 'main' panicked at 'Unable to find libclang: \"couldn't find any valid shared libraries matching: ['libclang.so', 'libclang-*.so'], set the `LIBCLANG_PATH` environment variable\"', /root/.cargo/registry/src/github.com-1ecc6299db9ec823/bindgen-0.56.0/src/lib.rs:1922:31",
  );
  assert.match(missing.lead, /libclang/);
  assert.match(missing.code!.text, /LIBCLANG_PATH/);
  assert.match(missing.sources, /libclang-not-found|quick-start/);
  const mismatch = explained(
    "*** libclang (used by the Rust bindings generator 'bindgen')\n*** version does not match Clang's. This may be a problem.\n***   libclang version: 18.1.3\n***   Clang version:    14.0.0",
  );
  assert.match(mismatch.lead, /warning.*another LLVM release/);
  const bug = explained(
    "*** Rust bindings generator 'bindgen' < 0.69.5 together with libclang >= 19.1\n*** may not work due to a bug (https://github.com/rust-lang/rust-bindgen/pull/2824),",
  );
  assert.match(bug.lead, /bindgen bug/);
});

test('`core` not found out of tree points at the distribution headers, whatever the paths and target', () => {
  for (const paste of [
    "error[E0463]: can't find crate for `core`\n  |\n  = note: the `x86_64-unknown-linux-gnu` target may not be installed",
    'error[E0463]: can’t find crate for ‘core’ --> /home/ann/src/hello/hello.rs:3:5\nmake[2]: *** [/usr/src/linux-headers-6.8.0-45-generic/scripts/Makefile.build:290: hello.o] Error 1',
    "error[E0461]: couldn't find crate `core` with expected target triple target-7ca2d4f5e6a1b3c9",
  ]) {
    const answer = explained(paste);
    assert.match(answer.lead, /header packages|metadata/);
    assert.match(answer.sources, /rust-out-of-tree-module|out-of-tree/);
  }
  const rustc = explained(
    'error[E0514]: found crate `core` compiled by an incompatible version of rustc\n  = help: please recompile that crate using this compiler (rustc 1.82.0)',
  );
  assert.match(rustc.lead, /another `rustc` than the one that built the kernel/);
});

test('clang rejecting a GCC-built kernel flags, modpost undefined Rust symbols, and a missing ld.lld', () => {
  const flags = explained(
    "error: unknown argument: '-fconserve-stack'\nerror: unknown argument: '-mrecord-mcount'\npanicked at 'Unable to generate bindings: ClangDiagnostic(\"error: unknown argument: '-fno-allow-store-data-races'\")'",
  );
  assert.match(flags.lead, /GCC/);
  assert.match(flags.code!.text, /LLVM=1/);
  for (const symbol of [
    '_RNvNtCs3yuwAp0waWO_4core9panicking5panic',
    '_RNvMs_NtCsd1YWcAWw6Cs_6kernel5errorNtB4_5Error9to_errno',
  ]) {
    const modpost = explained(
      `ERROR: modpost: "${symbol}" [/home/u/mods/rust_hello.ko] undefined!\nmake[1]: *** [scripts/Makefile.modpost:145: Module.symvers] Error 1`,
    );
    assert.match(modpost.lead, /Module\.symvers/);
    assert.match(modpost.sources, /modules\.html|rust-out-of-tree-module/);
  }
  const mixed = explained(
    "warning: the compiler differs from the one used to build the kernel\n  The kernel was built by: gcc (GCC) 14.2.1 20240912\n  You are using:           clang version 19.1.6\nclang: error: unsupported option '-mrecord-mcount' for target 'x86_64-unknown-linux-gnu'",
  );
  assert.match(mixed.lead, /GCC/);
  const lld = explained("scripts/Kconfig.include:40: linker 'ld.lld' not found");
  assert.match(lld.lead, /lld/);
});

test('ordinary questions, and errors we know nothing about, are left to retrieval', () => {
  for (const message of [
    'which bindgen does 6.1 need?',
    'How do I write a minimal Rust module?',
    'what does core::ptr do in the kernel crate?',
    'error[E0308]: mismatched types',
    'is rustc 1.80 too new for 6.1?',
    'Is bindgen 0.69 too old for 6.12?',
  ])
    assert.equal(explain(message), null, message);
});

test('normalising drops what differs between machines and keeps the words', () => {
  assert.equal(
    normalizeErrorText("***  Rust compiler '/usr/bin/rustc' is TOO old.\n***   Minimum version: 1.78.0"),
    normalizeErrorText('*** Rust compiler `/home/me/.cargo/bin/rustc` is too old.   Minimum version: 1.62.0'),
  );
});

test('a huge paste of many lines costs time linear in its size', () => {
  const chars = 200_000;
  const benign = repeatTo('CONFIG_SOME_DRIVER_OPTION=y\n', chars);
  for (const unit of [
    "*** Rust compiler '",
    '1111111111111111111111111111111.',
    '_R',
    "error[E0463]: can't find crate for `core`\n",
    '/a',
    'x.rs:1',
    ':1',
    '*'.repeat(999),
  ]) {
    const hostile = repeatTo(unit, chars);
    assertLinear(
      JSON.stringify(unit.slice(0, 20)),
      () => explain(hostile),
      () => explain(benign),
    );
  }
});

/**
 * Pastes and questions built to make a regex backtrack: they finish in time linear in their size (a
 * bounded multiple of a linear pass over input of the same size, measured here, not a wall-clock
 * number), get a friendly reply, and what is real in them is still found.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { parseFeed } from '../bot/digest/feeds/parse.ts';
import { parsePatchSubject } from '../bot/digest/feeds/series.ts';
import { type CheckLimits, checkConfig, MAX_INPUT_BYTES } from '../jobs/doctor/check-config.ts';
import { MAX_LINE_CHARS, MAX_LINES } from '../jobs/doctor/paste-lines.ts';
import { checkToolVersions, type ToolRules } from '../jobs/doctor/tool-version-check.ts';
import type { PreparedTree } from '../jobs/kernel/kernel-tree.ts';
import { requestFingerprint } from '../jobs/queue/job-id.ts';
import { askedKernelVersion, docVocabulary } from '../knowledge/query-hints.ts';
import { analyze } from '../knowledge/tokenize.ts';
import { assertLinear, repeatTo } from './helpers/linear-time.ts';
import { defaultConfig, preparedTree } from './helpers/prepared-tree.ts';

const HOSTILE_UNITS = ["*** Rust compiler '", "*** Rust bindings generator '"];
const RULES: ToolRules = {
  kernelVersion: '6.1.0',
  rustc: '1.62.0',
  bindgen: '0.56.0',
  llvm: '11.0.0',
  warnsTooNew: true,
};
const REAL_OUTPUT = 'rustc 1.58.1 (db9d1b20b 2022-01-20)\nbindgen 0.56.0\n';
/** Config lines as long as the hostile paste: the benign input of the same size. */
const benignConfig = (chars: number) => repeatTo('CONFIG_SOME_DRIVER_OPTION=y\n', chars);

let tree: PreparedTree;
let limits: CheckLimits;

before(async () => {
  tree = await preparedTree();
  limits = defaultConfig().jobs;
});

test('one pasted line of 250 KB or 2 MB of rustavailable openings is skipped, and the real output beside it is judged', () => {
  for (const unit of HOSTILE_UNITS) {
    for (const chars of [250 * 1024, MAX_INPUT_BYTES - REAL_OUTPUT.length - 1]) {
      const paste = `${repeatTo(unit, chars)}\n${REAL_OUTPUT}`;
      assertLinear(
        `${chars} chars of ${unit}`,
        () => checkToolVersions(paste, RULES),
        () => checkToolVersions(`${benignConfig(chars)}\n${REAL_OUTPUT}`, RULES),
      );
      const check = checkToolVersions(paste, RULES);
      assert.deepEqual(
        check.findings.map((f) => [f.tool, f.found, f.status]),
        [
          ['rustc', '1.58.1', 'too-old'],
          ['bindgen', '0.56.0', 'ok'],
        ],
      );
      assert.deepEqual(check.lines, [2, 3], 'the long line is not taken for tool output');
    }
  }
});

test('lines just under the length cap, filling the whole paste, are read in linear time', () => {
  for (const unit of HOSTILE_UNITS) {
    const lines = Math.floor(MAX_INPUT_BYTES / MAX_LINE_CHARS) - 1;
    const paste = `${`${repeatTo(unit, MAX_LINE_CHARS)}\n`.repeat(lines)}${REAL_OUTPUT}`;
    assertLinear(
      `${lines} lines of ${MAX_LINE_CHARS} chars of ${unit}`,
      () => checkToolVersions(paste, RULES),
      () => checkToolVersions(`${benignConfig(paste.length - REAL_OUTPUT.length)}${REAL_OUTPUT}`, RULES),
    );
    assert.equal(checkToolVersions(paste, RULES).findings[0]?.status, 'too-old');
  }
});

test('!check-config with a 2 MB line says it skipped it and still judges the pasted rustc', async () => {
  const result = await checkConfig(
    `${repeatTo(HOSTILE_UNITS[0]!, MAX_INPUT_BYTES - 100)}\n${REAL_OUTPUT}`,
    tree,
    { limits },
  );
  assert.match(result.summary, /^❌ toolchain checked against Linux 6\.1\.\d+/);
  assert.match(result.body, /rustc 1\.58\.1 is too old/);
  assert.match(result.body, /1 line longer than 16 KB was skipped unread/);
  assert.equal(result.overlongLines, 1);
  assert.equal(result.partial, false);
});

test('!check-config past the line budget reads that far, says "partially checked", and reports what it read', async () => {
  const result = await checkConfig(`${REAL_OUTPUT}${'***\n'.repeat(MAX_LINES + 10)}`, tree, { limits });
  assert.equal(result.partial, true);
  assert.match(result.summary, /\(partially checked\)$/);
  assert.match(result.body, /Partially checked: that paste has more than 50,000 lines/);
  assert.match(result.body, /rustc 1\.58\.1 is too old/);
});

test('questions built to backtrack: a long version-like token, many tool versions, many "what"s', () => {
  const size = 100_000;
  // The yardstick is a linear pass over the same text: the tokenizer the question goes through anyway.
  const longToken = `6.1.${'1'.repeat(size)}a1 on kernel 6.6`;
  assertLinear(
    'a long version-like token',
    () => askedKernelVersion(longToken),
    () => analyze(longToken),
  );
  assert.equal(askedKernelVersion(longToken), '6.6', 'the token is no version; the one after it is');

  const toolVersions = `${repeatTo('rustc 6.1 ', size)} on kernel 6.6`;
  assertLinear(
    'many tool versions',
    () => askedKernelVersion(toolVersions),
    () => analyze(toolVersions),
  );
  assert.equal(askedKernelVersion(toolVersions), '6.6');

  const whats = repeatTo('what ', size);
  assertLinear(
    'many "what"s',
    () => docVocabulary(whats),
    () => analyze(whats),
  );
  assert.doesNotMatch(docVocabulary(whats), /min-tool-version/);
  assert.match(docVocabulary(`${whats} rustc version?`), /min-tool-version/);
});

test('a build whose source has a 200,000-space line is fingerprinted in linear time', () => {
  const chars = 200_000;
  const request = (source: string) => ({
    kind: 'build' as const,
    source,
    fileName: null,
    boot: false,
    kernel: null,
  });
  assertLinear(
    'a line of spaces then text',
    () => requestFingerprint(request(`${' '.repeat(chars)}x`), 'alice', null),
    () => requestFingerprint(request(repeatTo('let x = 1;\n', chars)), 'alice', null),
  );
  // Trailing spaces still make no new request.
  assert.equal(
    requestFingerprint(request('fn f() {}   \n'), 'alice', null),
    requestFingerprint(request('fn f() {}\n'), 'alice', null),
  );
});

test('feed titles built to backtrack are read in linear time', () => {
  const chars = 100_000;
  const feed = (title: string) =>
    `<?xml version="1.0"?><rss version="2.0"><channel><title>list</title><item><title>${title}</title><link>https://lists.example/1</link></item></channel></rss>`;
  const escaped = (text: string) => text.replaceAll('<', '&lt;');
  assertLinear(
    'many unclosed comments in an HTML title',
    () => parseFeed(feed(escaped(repeatTo('<!-- ', chars))), 'https://lists.example/'),
    () => parseFeed(feed(repeatTo('word ', chars)), 'https://lists.example/'),
  );
  assertLinear(
    'a reply prefix with a long run of spaces',
    () => parsePatchSubject(`Re${' '.repeat(chars)}x`),
    () => parsePatchSubject(repeatTo('word ', chars)),
  );
  assert.equal(parsePatchSubject('Re: [PATCH v2 1/3] rust: add Box<T>')?.version, 2);
});

/**
 * No regular expression in the code that reads chat messages, pasted configs and tool output, code,
 * job options or compiler output can be made to backtrack without bound: each is either judged safe by
 * redos-detector, or listed below with the reason it is linear anyway, never sees user text, or is
 * left to the change that owns its file.
 */
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isSafePattern } from 'redos-detector';
import { REPO } from './helpers/paths.ts';
import { regexesIn } from './helpers/regex-literals.ts';

const AUDITED = ['bot/**/*.ts', 'jobs/**/*.ts', 'knowledge/*.ts', 'config/*.ts'];

/** Enough for every pattern redos-detector can judge here; a pattern it gives up on must be listed. */
const DETECTOR = { maxSteps: 5000, timeout: 10_000 };

const WORD_LIST =
  'linear: fixed words between \\b with gaps bounded by {0,n} (and \\w* only right before \\b, which cannot fail), so each attempt reads a bounded stretch; redos-detector runs out of steps on lists this long';
const DOCS = 'applied to indexed documentation passages, never to user text';
const TREE = "applied to the kernel tree's own files, never to user text";

interface Exception {
  file: string;
  /** The start of the pattern's source, enough to tell it from the file's other patterns. */
  pattern: string;
  reason: string;
}

const EXCEPTIONS: Exception[] = [
  {
    file: 'bot/chat/input.ts',
    pattern: String.raw`[[\p{Cc}--`,
    reason:
      'one character class per match, which cannot backtrack; redos-detector cannot parse v-flag set operations',
  },
  // knowledge/: questions, cut to the message cap before they get here
  ...[
    String.raw`\b(ignore|disregard`,
    String.raw`\byou('re| are)( now)? in`,
    String.raw`\b(enter|activate`,
    String.raw`\b(print|show|reveal`,
    String.raw`\b(what is|what's|what are)`,
    String.raw`\b(config(uration)?|settings?|env(ironment)?)\b.{0,20}`,
    String.raw`\b(role-?play|act) as`,
    String.raw`\b(personal|private|home`,
    String.raw`\b(personal|home|postal`,
    String.raw`\bwhere (does|do) .{1,40} live`,
    String.raw`\b(fuck|screw|f\*+k?)`,
    String.raw`\b(you('re| are)|u r|ur|this bot is)`,
    String.raw`\b(thank you|thanks?`,
    String.raw`\b(ok|okay|great`,
  ].map((pattern) => ({ file: 'knowledge/intent.ts', pattern, reason: WORD_LIST })),
  ...[
    String.raw`\b(ide|editor`,
    String.raw`\b(gr[ae]y(ed)?`,
    String.raw`\b(get(ting)? involved`,
    String.raw`#\s*if(def)?\b`,
  ].map((pattern) => ({ file: 'knowledge/query-hints.ts', pattern, reason: WORD_LIST })),
  // knowledge/vocabulary.ts: the domain (and the technical words, which start like it), everyday
  // topics, other platforms, distributions and architectures
  ...[
    String.raw`\b(?:kernels?|linux`,
    String.raw`\b(?:recipes?|cooking`,
    String.raw`\b(?:windows|win32`,
    String.raw`\b(?:ubuntu|debian`,
    String.raw`\b(?:arm64|aarch64`,
  ].map((pattern) => ({ file: 'knowledge/vocabulary.ts', pattern, reason: WORD_LIST })),
  {
    file: 'knowledge/vocabulary.ts',
    pattern: String.raw`\b(?:rustc|bindgen`,
    reason:
      'applied to at most TOOL_WORDS_REACH (40) characters before each version (knowledge/query-hints.ts)',
  },
  { file: 'knowledge/retrieve.ts', pattern: String.raw`\b(i'?m|i'?ve`, reason: WORD_LIST },
  {
    file: 'knowledge/retrieve.ts',
    pattern: String.raw`\b(in )?what year`,
    reason: WORD_LIST,
  },
  { file: 'knowledge/compose.ts', pattern: String.raw`\b(how|command|run`, reason: WORD_LIST },
  ...[
    String.raw`,?\s*(\b(e\.g|i\.e)`,
    String.raw`\s+$`,
    String.raw`\d+\.\d+`,
    String.raw`\n\s*\n|`,
    String.raw`^\s*\.\. [\w:-]+::`,
    ':(doc|ref):',
    String.raw`:[\w:+-]+:`,
    '`([^`<]+?)',
    '`([^`]+)`__?',
    '``([^`]+)``',
    '<(https?:',
    String.raw`!\[[^\]]*\]`,
    String.raw`\[([^\]]+)\]\((https?:`,
    String.raw`\[([^\]]+)\]\([^)]*\)`,
    String.raw`<\/?(br|p|div`,
    String.raw`\*\*([^*\n]+)\*\*`,
    String.raw`(^|[\s(])\*`,
    String.raw`\|(\w[\w -]*)\|`,
    String.raw`\[\^[^\]]+\]`,
    String.raw`(\S)::[ \t]*$`,
  ].map((pattern) => ({ file: 'knowledge/compose.ts', pattern, reason: DOCS })),
  // jobs/: the tree's own Kconfig files
  { file: 'jobs/build/series-hint.ts', pattern: String.raw`^\s*pub(?:\([\w:]+\))?`, reason: TREE },
  { file: 'jobs/build/series-hint.ts', pattern: String.raw`"name"\s*=>`, reason: TREE },
  {
    file: 'jobs/build/series-hint.ts',
    pattern: String.raw`\bname:\s*(b?)"`,
    reason:
      'linear: starts only at the word "name:", and \\s* stops at the first other character (on 2,000 characters of module!)',
  },
  {
    file: 'jobs/kernel/toolchain.ts',
    pattern: String.raw`\b(\d+\.\d+\.\d+)\b`,
    reason: "linear: digit runs between dots; applied to our own tools' --version line, never to user text",
  },
  { file: 'jobs/kernel/min-tool-version.ts', pattern: String.raw`^\s*(?:if|elif)`, reason: TREE },
  { file: 'jobs/kernel/min-tool-version.ts', pattern: String.raw`^\[\s*"?\$\{?(\w+)`, reason: TREE },
  {
    file: 'config/logger.ts',
    pattern: String.raw`(Bearer\s+|[?&]`,
    reason: 'linear: starts only at "Bearer", "?" or "&", and the token class excludes the spaces before it',
  },
  {
    file: 'config/logger.ts',
    pattern: String.raw`(:\/\/[^\s:/@]*:)`,
    reason: 'linear: starts only at "://", and neither part can run past the next "/"',
  },
  { file: 'jobs/doctor/check-config.ts', pattern: String.raw`^\s*select\s+HAVE_RUST`, reason: TREE },
  { file: 'jobs/doctor/kconfig.ts', pattern: String.raw`\$\((\w+)\)`, reason: TREE },
  { file: 'jobs/kernel/kernel-source.ts', pattern: String.raw`\.tar\.\w+$`, reason: TREE },
  { file: 'jobs/sandbox/sandbox.ts', pattern: '-linux-gnu$', reason: `${TREE} (toolchain directory names)` },
  // Linear although redos-detector cannot tell (or finds them ambiguous in a way that cannot blow up).
  {
    file: 'bot/adapters/discord/render.ts',
    pattern: String.raw`\\.|`,
    reason: `linear: an unclosed \` or < reads to the end of its line, which then holds no other`,
  },
  {
    file: 'bot/chat/rich-message.ts',
    pattern: '(`[^`\\n]+`)',
    reason: `linear: an unclosed \` reads to the end of its line, which then holds no other`,
  },
  {
    file: 'bot/dispatch/router.ts',
    pattern: String.raw`^(\S*)\s*([\s\S]*)$`,
    reason: `linear: anchored, and [\\s\\S]*$ always matches the rest`,
  },
  { file: 'jobs/build/boot.ts', pattern: '(Oops|BUG:', reason: `linear: fixed words` },
  {
    file: 'bot/digest/feeds/series.ts',
    pattern: '^(?:(?:re|fwd?',
    reason:
      'linear: anchored, and each run of spaces has one place to go (before or after the [n], never both)',
  },
  {
    file: 'knowledge/llm.ts',
    pattern: String.raw`<\s*(?:\/\s*)?(?:passages|question)`,
    reason: 'linear: starts only at <, and [^<>]* cannot run past the next <',
  },
  {
    file: 'jobs/build/build.ts',
    pattern: String.raw`module!\s*\{`,
    reason: `linear: [^"]* stops at the next quote`,
  },
  {
    file: 'jobs/build/build.ts',
    pattern: String.raw`^make(?:\[\d+\])?:`,
    reason: `linear: anchored at each line`,
  },
  {
    file: 'jobs/build/diagnostics.ts',
    pattern: '^warning: ',
    reason: `linear: anchored, one line`,
  },
  {
    file: 'bot/digest/feeds/parse.ts',
    pattern: String.raw`<\/?(?:a|abbr`,
    reason: `linear: [^<>]* stops at the next tag`,
  },
  ...[String.raw`(?:\x1b\[|\x9b)`, String.raw`\x1b[\x20-\x2f]*`].map((pattern) => ({
    file: 'config/printable.ts',
    pattern,
    reason: `linear: starts only at ESC and its classes are disjoint`,
  })),
  {
    file: 'jobs/sandbox/sandbox.ts',
    pattern: 'memory allocation of',
    reason: 'linear: fixed words',
  },
  {
    file: 'knowledge/llm.ts',
    pattern: String.raw`\[(\d+(?:\s*,`,
    reason: `linear: starts only at [ and its repetitions are separated by commas`,
  },
];

/** `new RegExp(` sites built per call, from values that are not user text; the rest are built at import. */
const BUILT_PER_CALL: { file: string; reason: string }[] = [
  { file: 'bot/dispatch/router.ts', reason: 'the configured bot name, escaped' },
  { file: 'bot/adapters/matrix/intake.ts', reason: 'configured names, escaped' },
  { file: 'bot/adapters/discord/bot.ts', reason: "the bot's numeric Discord id" },
  { file: 'bot/adapters/discord/render.ts', reason: 'a numeric chunk length: [^]{1,n} is linear' },
  { file: 'jobs/kernel/kernel-tree.ts', reason: "the tree Makefile's field names" },
  {
    file: 'jobs/kernel/kernel-source.ts',
    reason: "the tree Makefile's field names (VERSION, PATCHLEVEL, SUBLEVEL)",
  },
  { file: 'jobs/sandbox/sandbox.ts', reason: 'a numeric uid' },
];

interface Found {
  file: string;
  line: number;
  pattern: string;
  flags: string;
}

function auditedFiles(): string[] {
  return globSync(AUDITED, { cwd: REPO }).sort();
}

/** The patterns `new RegExp` builds while `files` are imported, with the file and line that built them. */
async function builtAtImport(files: string[]): Promise<Found[]> {
  const built: Found[] = [];
  const native = globalThis.RegExp;
  globalThis.RegExp = new Proxy(native, {
    construct(target, args, newTarget) {
      const made: RegExp = Reflect.construct(target, args, newTarget);
      const site = new Error().stack
        ?.split('\n')
        .find((frame) => frame.includes(REPO) && !frame.includes('/test/'));
      const [, file = '', line = '0'] =
        site?.match(/file:\/\/[^ ]*?\/((?:bot|jobs|knowledge)\/[^:]+):(\d+)/) ?? [];
      built.push({ file, line: Number(line), pattern: made.source, flags: made.flags });
      return made;
    },
  });
  try {
    for (const file of files) await import(join(REPO, file));
  } finally {
    globalThis.RegExp = native;
  }
  return built;
}

function exceptionFor(found: Found): Exception | undefined {
  return EXCEPTIONS.find((e) => e.file === found.file && found.pattern.startsWith(e.pattern));
}

function isSafe(found: Found): boolean {
  try {
    return isSafePattern(found.pattern, {
      ...DETECTOR,
      caseInsensitive: found.flags.includes('i'),
      unicode: found.flags.includes('u'),
      multiLine: found.flags.includes('m'),
      dotAll: found.flags.includes('s'),
    }).safe;
  } catch {
    return false; // a pattern it cannot parse is not judged safe
  }
}

test('every regex over user text is linear by redos-detector, or a listed exception with its reason', async () => {
  const literals: Found[] = [];
  const constructedIn = new Map<string, number[]>();
  for (const file of auditedFiles()) {
    const { literals: inFile, constructed } = regexesIn(readFileSync(join(REPO, file), 'utf8'));
    literals.push(...inFile.map((literal) => ({ file, ...literal })));
    if (constructed.length > 0) constructedIn.set(file, constructed);
  }
  assert.ok(literals.length > 200, `only ${literals.length} regex literals found: is the lexer lost?`);

  const perCall = new Set(BUILT_PER_CALL.map((site) => site.file));
  const importNow = [...constructedIn.keys()].filter((file) => !perCall.has(file));
  const built = await builtAtImport(importNow);
  for (const file of importNow) {
    for (const line of constructedIn.get(file)!) {
      assert.ok(
        built.some((b) => b.file === file && b.line === line),
        `${file}:${line} builds a RegExp per call: list it in BUILT_PER_CALL with why its input is not user text`,
      );
    }
  }

  const unsafe = [...literals, ...built.filter((b) => importNow.includes(b.file))]
    .filter((found) => !exceptionFor(found) && !isSafe(found))
    .map((found) => `${found.file}:${found.line} /${found.pattern}/${found.flags}`);
  assert.deepEqual(unsafe, [], 'regexes redos-detector finds ambiguous, neither rewritten nor listed');

  const everything = [...literals, ...built];
  const stale = EXCEPTIONS.filter(
    (e) => !everything.some((found) => found.file === e.file && found.pattern.startsWith(e.pattern)),
  ).map((e) => `${e.file}: ${e.pattern}`);
  assert.deepEqual(stale, [], 'exceptions whose pattern is gone: remove them');
});

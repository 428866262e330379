/**
 * The .config doctor: is CONFIG_RUST set, which of its `depends on` terms fail (read from the tree's real
 * Kconfig), does CONFIG_RUST=y survive a real `make olddefconfig` with the tree's toolchain, and which
 * `scripts/config` line fixes it, verified by running that line and olddefconfig again in the sandbox.
 * Pasted tool output in the same text is checked against the tree's minimum versions.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plural } from '../../config/words.ts';
import type { PreparedTree } from '../kernel/kernel-tree.ts';
import { makeArgs, makeEnv, toolchainBinds } from '../kernel/toolchain.ts';
import { type CompileLimits, compileLimits, runSandboxed } from '../sandbox/sandbox.ts';
import {
  type ConfigValues,
  type Expr,
  evaluate,
  formatTerm,
  type Kconfig,
  type KconfigEntry,
  parseDotConfig,
  readKconfig,
  selectorsOf,
  type UnmetTerm,
  unmetTerms,
} from './kconfig.ts';
import { MAX_LINE_CHARS, MAX_LINES } from './paste-lines.ts';
import { checkToolVersions, type ToolCheck, toolRulesFor } from './tool-version-check.ts';

export type CheckLimits = CompileLimits;

export interface ConfigCheckOptions {
  limits: CheckLimits;
  signal?: AbortSignal;
}

export interface ConfigCheck {
  outcome: 'config-ok' | 'config-problems' | 'limit' | 'infrastructure';
  /** ✅/❌ first line with the kernel it was checked against. */
  summary: string;
  /** Findings, then the fix lines. */
  body: string;
  /** The olddefconfig runs' output, for `!log`. */
  log: string;
  /** CONFIG_RUST in the given text: true (y), false (n or absent), null when there was no config at all. */
  rustSet: boolean | null;
  /** `depends on` terms of RUST that fail in the given config. */
  unmet: UnmetTerm[];
  /** ... and in the config olddefconfig made of it with CONFIG_RUST=y (the tree's toolchain). */
  unmetAfterOlddefconfig: UnmetTerm[];
  /** CONFIG_RUST=y after the fix lines and olddefconfig; null when no olddefconfig run happened. */
  survives: boolean | null;
  /** `scripts/config --file .config ...` lines; empty when nothing needs fixing. */
  fixLines: string[];
  tools: ToolCheck | null;
  /** How many lines were neither config lines nor tool output. */
  ignoredLines: number;
  /** How many lines were longer than any real one (MAX_LINE_CHARS) and skipped unread. */
  overlongLines: number;
  /** The paste had more than MAX_LINES lines and only those were read: the summary says so. */
  partial: boolean;
}

/** A distribution .config is about 300 KB; much more than this is not a config. */
export const MAX_INPUT_BYTES = 2 * 1024 * 1024;
const MAX_ROUNDS = 4;
const MAX_DEPTH = 5;
/** Enough assignments to be a whole .config, where an absent symbol means n rather than "not said". */
const WHOLE_CONFIG_MIN_SYMBOLS = 150;

/** Why a term matters, in the user's terms. */
const TERM_NOTES: Record<string, string> = {
  HAVE_RUST: 'the architecture (and for x86, 64-bit) must support Rust in this kernel',
  RUST_IS_AVAILABLE:
    'the toolchain check failed where this config was made: run `make LLVM=1 rustavailable` to see why',
  MODVERSIONS: 'Rust modules cannot carry symbol versions in this kernel',
  GCC_PLUGINS: 'GCC plugins are not supported with Rust (an LLVM=1 build has none)',
  RANDSTRUCT: 'structure layout randomisation would differ between C and Rust',
  CFI_CLANG: 'Clang CFI is not supported with Rust in this kernel',
  SHADOW_CALL_STACK: 'shadow call stacks are not supported with Rust in this kernel',
  DEBUG_INFO_BTF: 'BTF needs a pahole that can skip Rust (PAHOLE_HAS_LANG_EXCLUDE) and no LTO',
};

/** Config symbol -> the kernel's SRCARCH name, for the arch a .config was made for. */
const ARCH_SYMBOLS: [string, string][] = [
  ['X86', 'x86'],
  ['ARM64', 'arm64'],
  ['ARM', 'arm'],
  ['RISCV', 'riscv'],
  ['PPC', 'powerpc'],
  ['S390', 's390'],
  ['MIPS', 'mips'],
  ['LOONGARCH', 'loongarch'],
  ['UML', 'um'],
  ['SPARC', 'sparc'],
];

const kconfigCache = new Map<string, Promise<Kconfig>>();

function treeKconfig(tree: PreparedTree): Promise<Kconfig> {
  const key = `${tree.sourceDir}:x86`;
  let cached = kconfigCache.get(key);
  if (!cached) {
    cached = readKconfig({ sourceDir: tree.sourceDir, srcarch: 'x86' });
    kconfigCache.set(key, cached);
  }
  return cached;
}

/** Arches whose Kconfig selects HAVE_RUST, with the condition (`x86: X86_64`). */
export async function rustArches(sourceDir: string): Promise<Map<string, string | null>> {
  const arches = new Map<string, string | null>();
  for (const arch of await readdir(join(sourceDir, 'arch')).catch(() => [] as string[])) {
    const text = await readFile(join(sourceDir, 'arch', arch, 'Kconfig'), 'utf8').catch(() => '');
    const select = /^\s*select\s+HAVE_RUST\b(?:\s+if\s+(.+))?$/m.exec(text);
    if (select) arches.set(arch, select[1]?.trim() ?? null);
  }
  return arches;
}

/** Text that is not a paste of a config or tool output: binary data or far too much of it. */
function unreadable(text: string): string | null {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_INPUT_BYTES) {
    return `That is ${(bytes / 1024 / 1024).toFixed(1)} MB; a .config is a few hundred KB. Please attach the .config itself (or paste the lines around CONFIG_RUST).`;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL and other C0 controls mean binary data.
  const controls = (text.match(/[\x00-\x08\x0e-\x1f\ufffd]/g) ?? []).length;
  if (controls > 0 && controls > text.length / 100) {
    return 'That looks like binary data, not a text .config. Please attach the .config file from your build directory (or paste its text).';
  }
  return null;
}

/** One fix: a scripts/config option, or the reason no config line can fix it. */
interface Fix {
  options: string[];
  blockers: string[];
}

const NONE: Fix = { options: [], blockers: [] };
const merge = (...fixes: Fix[]): Fix => ({
  options: fixes.flatMap((fix) => fix.options),
  blockers: fixes.flatMap((fix) => fix.blockers),
});

/**
 * The scripts/config options that give `expr` the wanted truth in `values`: a prompt symbol is set
 * directly (and what selects it turned off, or its own dependencies met); a symbol without a prompt
 * is reached through its def_bool/default expression, its dependencies or what selects it.
 */
function solve(expr: Expr, want: boolean, values: ConfigValues, kconfig: Kconfig, depth = 0): Fix {
  if (evaluate(expr, values) > 0 === want) return NONE;
  if (depth > MAX_DEPTH) return { options: [], blockers: ['the dependency chain is too deep to follow'] };
  switch (expr.kind) {
    case 'not':
      return solve(expr.operand, !want, values, kconfig, depth);
    case 'and':
    case 'or': {
      const sides = [
        solve(expr.left, want, values, kconfig, depth),
        solve(expr.right, want, values, kconfig, depth),
      ];
      // want && true / || false: both sides must change; otherwise one working side is enough.
      if ((expr.kind === 'and') === want) return merge(...sides);
      return sides.find((side) => side.blockers.length === 0 && side.options.length > 0) ?? merge(...sides);
    }
    case 'symbol':
      return solveSymbol(expr.name, want, values, kconfig, depth);
    default:
      return {
        options: [],
        blockers: [`${unmetTerms(expr, values, want)[0]?.term ?? 'a comparison'} is not a setting`],
      };
  }
}

function solveSymbol(
  name: string,
  want: boolean,
  values: ConfigValues,
  kconfig: Kconfig,
  depth: number,
): Fix {
  const entry: KconfigEntry | undefined = kconfig.entries.get(name)?.[0];
  if (!entry) return { options: [], blockers: [`${name} does not exist in this kernel`] };
  if (name === 'RUST_IS_AVAILABLE') {
    return { options: [], blockers: ['the Rust toolchain check fails: run `make LLVM=1 rustavailable`'] };
  }
  const selectedBy = selectorsOf(kconfig, name).filter(
    (s) =>
      evaluate({ kind: 'symbol', name: s.by.name }, values) > 0 &&
      (!s.condition || evaluate(s.condition, values) > 0),
  );
  if (!want) {
    const unselect = selectedBy.map((s) => solveSymbol(s.by.name, false, values, kconfig, depth + 1));
    if (entry.prompt) return merge({ options: [`--disable ${name}`], blockers: [] }, ...unselect);
    if (selectedBy.length > 0) return merge(...unselect);
    const active = entry.defaults.find((d) => !d.condition || evaluate(d.condition, values) > 0);
    return active
      ? solve(active.value, false, values, kconfig, depth + 1)
      : { options: [], blockers: [`${name} cannot be turned off from a .config`] };
  }
  const deps = entry.dependsOn.map((dep) => solve(dep, true, values, kconfig, depth + 1));
  if (entry.prompt) {
    const siblings = entry.choice === null ? [] : choiceSiblingsOn(entry, values, kconfig);
    return merge(...deps, {
      options: [...siblings.map((s) => `--disable ${s}`), `--enable ${name}`],
      blockers: [],
    });
  }
  const selectors = selectorsOf(kconfig, name).map((s) =>
    merge(
      solveSymbol(s.by.name, true, values, kconfig, depth + 1),
      s.condition ? solve(s.condition, true, values, kconfig, depth + 1) : NONE,
    ),
  );
  const viaSelect = selectors.find((fix) => fix.blockers.length === 0 && fix.options.length > 0);
  if (viaSelect) return merge(...deps, viaSelect);
  const active = entry.defaults.find((d) => !d.condition || evaluate(d.condition, values) > 0);
  if (active && evaluate(active.value, values) === 0)
    return merge(...deps, solve(active.value, true, values, kconfig, depth + 1));
  return merge(...deps);
}

/** Other members of the same choice that are set: enabling one member means disabling them. */
function choiceSiblingsOn(entry: KconfigEntry, values: ConfigValues, kconfig: Kconfig): string[] {
  const siblings: string[] = [];
  for (const [name, list] of kconfig.entries) {
    if (name !== entry.name && list.some((e) => e.choice === entry.choice) && values.get(name) === 'y')
      siblings.push(name);
  }
  return siblings;
}

function dedupe(options: string[]): string[] {
  const last = new Map<string, string>();
  for (const option of options) last.set(option.split(' ')[1] ?? option, option);
  return [...last.values()];
}

function fixCommand(options: string[]): string {
  return `scripts/config --file .config ${options.join(' ')}`;
}

interface OlddefconfigRun {
  ok: boolean;
  values: Map<string, string>;
  output: string;
  problem: 'limit' | 'infrastructure' | null;
  message: string | null;
}

/** Applies `options` with the tree's scripts/config, then `make olddefconfig` with the tree's toolchain. */
async function olddefconfig(
  scratch: string,
  config: string,
  options: string[],
  tree: PreparedTree,
  check: ConfigCheckOptions,
): Promise<OlddefconfigRun> {
  await writeFile(join(scratch, '.config'), config);
  const make = ['make', '-s', '-C', '/kernel/src', 'O=/work', ...makeArgs(tree.toolchain), 'olddefconfig'];
  // Symbols are [A-Za-z0-9_] (checked by the caller), so the options are safe shell words.
  const script = `/kernel/src/scripts/config --file /work/.config ${options.join(' ')} && exec ${make.join(' ')}`;
  const { limits } = check;
  const run = await runSandboxed({
    command: ['sh', '-c', script],
    readOnly: [{ host: tree.sourceDir, inside: '/kernel/src' }, ...toolchainBinds(tree.toolchain)],
    scratch,
    env: makeEnv(tree.toolchain),
    limits: compileLimits(limits),
    ...(check.signal ? { signal: check.signal } : {}),
  });
  const failed = (problem: 'limit' | 'infrastructure', message: string): OlddefconfigRun => ({
    ok: false,
    values: new Map(),
    output: run.output,
    problem,
    message,
  });
  if (run.infrastructure) return failed('infrastructure', run.infrastructure);
  if (run.cancelled) return failed('limit', 'The check was cancelled.');
  if (run.limitHit) return failed('limit', `make olddefconfig hit the ${run.limitHit} limit.`);
  if (run.exitCode !== 0) return failed('infrastructure', `make olddefconfig failed (exit ${run.exitCode}).`);
  const resolved = await readFile(join(scratch, '.config'), 'utf8');
  return {
    ok: true,
    values: parseDotConfig(resolved).values,
    output: run.output,
    problem: null,
    message: null,
  };
}

function arch(values: ConfigValues): string | null {
  return ARCH_SYMBOLS.find(([symbol]) => values.get(symbol) === 'y')?.[1] ?? null;
}

function rustDepends(kconfig: Kconfig): Expr[] {
  return kconfig.entries.get('RUST')?.[0]?.dependsOn ?? [];
}

function termLine(term: UnmetTerm): string {
  const note = term.symbol ? TERM_NOTES[term.symbol] : undefined;
  return `• ${formatTerm(term)}${note ? ` — ${note}` : ''}`;
}

export async function checkConfig(
  text: string,
  tree: PreparedTree,
  options: ConfigCheckOptions,
): Promise<ConfigCheck> {
  const check = await checkPaste(text, tree, options);
  // Whatever the verdict, it is about the part that was read.
  return check.partial ? { ...check, summary: `${check.summary} (partially checked)` } : check;
}

async function checkPaste(
  text: string,
  tree: PreparedTree,
  options: ConfigCheckOptions,
): Promise<ConfigCheck> {
  const linux = `Linux ${tree.kernelVersion}`;
  const checked = `${linux}, make LLVM=1 with ${tree.environment.rustc}, ${tree.environment.bindgen}`;
  const base: ConfigCheck = {
    outcome: 'config-problems',
    summary: '',
    body: '',
    log: '',
    rustSet: null,
    unmet: [],
    unmetAfterOlddefconfig: [],
    survives: null,
    fixLines: [],
    tools: null,
    ignoredLines: 0,
    overlongLines: 0,
    partial: false,
  };
  const refusal = unreadable(text);
  if (refusal) return { ...base, summary: `❌ I could not read that as a .config — ${linux}`, body: refusal };

  const normalized = text.replace(/\r\n?/g, '\n');
  const tools = checkToolVersions(normalized, await toolRulesFor(tree.sourceDir, tree.kernelVersion));
  const parsed = parseDotConfig(normalized);
  const toolLines = new Set(tools.lines);
  const ignoredLines = parsed.ignoredLines.filter((line) => !toolLines.has(line)).length;
  const hasTools = tools.findings.length > 0 || tools.verdict !== null;
  const toolSection = hasTools
    ? [
        'Toolchain:',
        ...tools.findings.map((f) => `• ${f.text}`),
        ...(tools.verdict ? [`• make rustavailable: ${tools.verdict}`] : []),
      ]
    : [];
  const toolsBad = tools.findings.some((f) => f.status === 'too-old' || f.status === 'missing');
  const toolsWarn = tools.findings.some((f) => f.status === 'too-new');
  const reading = { ignoredLines, overlongLines: parsed.overlongLines.length, partial: parsed.partial };
  const notes = [
    ...(ignoredLines > 0
      ? [`(${plural(ignoredLines, 'line')} that were neither config lines nor tool output were ignored.)`]
      : []),
    ...(reading.overlongLines > 0
      ? [
          `(${plural(reading.overlongLines, 'line')} longer than ${MAX_LINE_CHARS / 1024} KB ${reading.overlongLines === 1 ? 'was' : 'were'} skipped unread: no config line or tool output is that long.)`,
        ]
      : []),
    ...(parsed.partial
      ? [
          `Partially checked: that paste has more than ${MAX_LINES.toLocaleString('en')} lines, so I read only the first ${MAX_LINES.toLocaleString('en')} (a whole .config has about 12,000).`,
        ]
      : []),
  ];

  if (parsed.values.size === 0) {
    if (!hasTools) {
      return {
        ...base,
        ...reading,
        summary: `❌ I found no config lines in that — ${linux}`,
        body: [
          'Send a .config (attached) or lines like `CONFIG_RUST=y` / `# CONFIG_MODVERSIONS is not set`, or the output of `rustc --version`, `bindgen --version` or `make LLVM=1 rustavailable`.',
          ...notes,
        ].join('\n'),
      };
    }
    return {
      ...base,
      outcome: toolsBad ? 'config-problems' : 'config-ok',
      tools,
      ...reading,
      summary: `${toolsBad ? '❌' : toolsWarn ? '⚠️' : '✅'} toolchain checked against ${linux}'s scripts/min-tool-version.sh`,
      body: [...toolSection, ...notes].join('\n'),
    };
  }

  const kconfig = await treeKconfig(tree);
  const values = parsed.values;
  const rustSet = values.get('RUST') === 'y';
  const configArch = arch(values);
  const wholeConfig = values.size >= WHOLE_CONFIG_MIN_SYMBOLS;
  // In a fragment, a symbol it does not mention is not known to be n: only judge what it says.
  const said = (term: UnmetTerm) => wholeConfig || (term.symbol !== null && values.has(term.symbol));
  const unmet = rustDepends(kconfig)
    .flatMap((dep) => unmetTerms(dep, values))
    .filter(said);
  const findings = [
    `CONFIG_RUST in your config: ${rustSet ? 'y' : values.has('RUST') ? 'not set' : 'not mentioned'}.`,
  ];
  if (unmet.length > 0)
    findings.push('Dependencies of RUST that your config does not meet:', ...unmet.map(termLine));

  if (configArch && configArch !== 'x86') {
    const arches = await rustArches(tree.sourceDir);
    const condition = arches.get(configArch);
    const support =
      arches.size === 0
        ? `${linux} has no Rust support on any architecture.`
        : `${linux} supports Rust on: ${[...arches].map(([a, c]) => (c ? `${a} (if ${c})` : a)).join(', ')}.`;
    return {
      ...base,
      rustSet,
      unmet,
      tools: hasTools ? tools : null,
      ...reading,
      summary: `${arches.has(configArch) ? '⚠️' : '❌'} this config is for ${configArch}; ${arches.has(configArch) ? 'only checked statically' : 'no Rust there'} — ${linux}`,
      body: [
        ...findings,
        `HAVE_RUST on ${configArch}: ${arches.has(configArch) ? `selected${condition ? ` if ${condition}` : ''}` : 'never selected'}. ${support}`,
        `The olddefconfig check runs on this worker's x86 tree, so it was skipped for ${configArch}.`,
        ...toolSection,
        ...notes,
      ].join('\n'),
    };
  }

  const scratch = await mkdtemp(join(tmpdir(), 'rfl-config-'));
  try {
    const config = `${[...values].map(([name, value]) => configLine(name, value)).join('\n')}\n`;
    const logs: string[] = [];
    let fixes: string[] = [];
    let run: OlddefconfigRun | null = null;
    let firstRun: OlddefconfigRun | null = null;
    let blockers: string[] = [];
    for (let round = 0; round < MAX_ROUNDS; round++) {
      run = await olddefconfig(scratch, config, [...fixes, '--enable RUST'], tree, options);
      logs.push(`$ ${fixCommand([...fixes, '--enable RUST'])} && make LLVM=1 olddefconfig\n${run.output}`);
      if (!run.ok) break;
      firstRun ??= run;
      if (run.values.get('RUST') === 'y') break;
      const fix = rustDepends(kconfig).reduce(
        (all, dep) => merge(all, solve(dep, true, run!.values, kconfig)),
        NONE,
      );
      blockers = fix.blockers;
      const next = dedupe([...fixes, ...fix.options]);
      if (fix.options.length === 0 || next.join() === fixes.join()) break;
      fixes = next;
    }
    const log = logs.join('\n');
    if (!run?.ok) {
      const problem = run?.problem ?? 'infrastructure';
      return {
        ...base,
        outcome: problem,
        rustSet,
        unmet,
        log,
        ...reading,
        summary: `⚠️ The olddefconfig check could not run: ${run?.message ?? 'unknown failure'}`,
        body: findings.join('\n'),
      };
    }
    const survives = run.values.get('RUST') === 'y';
    const unmetAfter = rustDepends(kconfig).flatMap((dep) => unmetTerms(dep, firstRun?.values ?? run.values));
    const selfFixed = unmet.filter((term) => !unmetAfter.some((after) => after.term === term.term));
    if (unmetAfter.length > 0) {
      findings.push(
        `After \`make LLVM=1 olddefconfig\` with CONFIG_RUST=y (${checked}), RUST is dropped because of:`,
        ...unmetAfter.map(termLine),
      );
    } else {
      findings.push(`CONFIG_RUST=y survives \`make LLVM=1 olddefconfig\` (${checked}).`);
    }
    if (selfFixed.length > 0) {
      findings.push(
        `Settled by olddefconfig itself with this toolchain: ${selfFixed.map((t) => t.term).join(', ')}.`,
      );
    }
    const fixNeeded = !rustSet || fixes.length > 0;
    const fixLines =
      fixNeeded && survives ? [fixCommand([...fixes, '--enable RUST']), 'make LLVM=1 olddefconfig'] : [];
    const toolWarnings =
      blockers.length > 0 ? ['Not fixable from the .config:', ...blockers.map((b) => `• ${b}`)] : [];
    const fixSection = fixLines.length
      ? ['Fix (verified: CONFIG_RUST=y survives olddefconfig after these lines):', ...fixLines]
      : survives
        ? []
        : ['No scripts/config line makes CONFIG_RUST=y survive here.'];
    const ok = survives && rustSet && unmet.length === 0 && fixes.length === 0 && !toolsBad;
    const summary = ok
      ? `✅ CONFIG_RUST=y is set and reachable — ${checked}`
      : survives
        ? `❌ ${rustSet ? 'CONFIG_RUST=y is set but would be dropped' : 'CONFIG_RUST is not set'}; the fix below is verified — ${checked}`
        : `❌ CONFIG_RUST cannot be enabled with this config — ${checked}`;
    return {
      ...base,
      outcome: ok ? 'config-ok' : 'config-problems',
      summary,
      body: [...findings, ...toolWarnings, ...toolSection, ...fixSection, ...notes].join('\n'),
      log,
      rustSet,
      unmet,
      unmetAfterOlddefconfig: unmetAfter,
      survives,
      fixLines,
      tools: hasTools ? tools : null,
      ...reading,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function configLine(name: string, value: string): string {
  if (value === 'n') return `# CONFIG_${name} is not set`;
  if (/^(y|m|-?\d+|0x[0-9a-fA-F]+)$/.test(value)) return `CONFIG_${name}=${value}`;
  return `CONFIG_${name}="${value.replace(/(["\\])/g, '\\$1')}"`;
}

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  type ConfigValues,
  type Expr,
  evaluate,
  formatExpr,
  formatTerm,
  parseDotConfig,
  parseExpr,
  readKconfig,
  selectorsOf,
  unmetTerms,
} from '../../jobs/doctor/kconfig.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'kconfig');

function expr(text: string): Expr {
  const parsed = parseExpr(text);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  return parsed.expr;
}

const values = (entries: Record<string, string>): ConfigValues => new Map(Object.entries(entries));

test('expressions parse with Kconfig precedence: ! over comparison over && over ||', () => {
  assert.equal(formatExpr(expr('A || B && !C')), 'A || B && !C');
  assert.deepEqual(expr('A || B && C'), {
    kind: 'or',
    left: { kind: 'symbol', name: 'A' },
    right: { kind: 'and', left: { kind: 'symbol', name: 'B' }, right: { kind: 'symbol', name: 'C' } },
  });
  assert.equal(formatExpr(expr('(A || B) && !(C = "x")')), '(A || B) && !(C="x")');
  assert.equal(
    formatExpr(expr('!DEBUG_INFO_BTF || (PAHOLE_HAS_LANG_EXCLUDE && !LTO)')),
    '!DEBUG_INFO_BTF || PAHOLE_HAS_LANG_EXCLUDE && !LTO',
  );
  assert.equal(formatExpr(expr('$(success,test -e $(CC))')), '$(success,test -e $(CC))');
});

test('malformed expressions are errors with the text, not exceptions', () => {
  for (const bad of ['A &&', '(A || B', 'A B', '&& A', '"open']) {
    const parsed = parseExpr(bad);
    assert.equal(parsed.ok, false, bad);
    if (!parsed.ok) assert.match(parsed.error, /in "/);
  }
});

test('tristate evaluation: && is min, || is max, ! is 2-x, comparisons are y or n', () => {
  const config = values({ A: 'y', M: 'm', N: 'n', LEVEL: '7', NAME: 'toy', HEX: '0x10' });
  assert.equal(evaluate(expr('A && M'), config), 1);
  assert.equal(evaluate(expr('N || M'), config), 1);
  assert.equal(evaluate(expr('!M'), config), 1);
  assert.equal(evaluate(expr('!UNSET'), config), 2);
  assert.equal(evaluate(expr('LEVEL > 5 && LEVEL < 10'), config), 2);
  assert.equal(evaluate(expr('LEVEL >= 10'), config), 0);
  assert.equal(evaluate(expr('HEX = 16'), config), 2);
  assert.equal(evaluate(expr('NAME = "toy" && UNSET != y'), config), 2);
  assert.equal(evaluate(expr('M = m'), config), 2);
});

test('unmet terms name each failing leaf with its current value', () => {
  const config = values({ HAVE_RUST: 'y', MODVERSIONS: 'y', DEBUG_INFO_BTF: 'y', LTO: 'y' });
  const dep = expr(
    'HAVE_RUST && RUST_IS_AVAILABLE && !MODVERSIONS && (!DEBUG_INFO_BTF || (PAHOLE_OK && !LTO))',
  );
  assert.deepEqual(unmetTerms(dep, config).map(formatTerm), [
    'RUST_IS_AVAILABLE [=n]',
    '!MODVERSIONS [=y]',
    '!DEBUG_INFO_BTF [=y]',
    'PAHOLE_OK [=n]',
    '!LTO [=y]',
  ]);
  assert.deepEqual(
    unmetTerms(expr('!DEBUG_INFO_BTF || PAHOLE_OK'), values({ PAHOLE_OK: 'y', DEBUG_INFO_BTF: 'y' })),
    [],
  );
  assert.deepEqual(unmetTerms(expr('NR > 1'), values({ NR: '1' })).map(formatTerm), [
    'NR>1 (currently false)',
  ]);
});

test('.config lines: values, not-set comments and quoted strings; other lines are counted', () => {
  const parsed = parseDotConfig(readFileSync(join(FIXTURES, 'fragment.config'), 'utf8'));
  assert.equal(parsed.values.get('LANG'), 'y');
  assert.equal(parsed.values.get('64BIT'), 'n');
  assert.equal(parsed.values.get('NAME'), 'a "quoted" name');
  assert.equal(parsed.values.get('LEVEL'), '7');
  assert.equal(parsed.values.get('MODULES'), 'm');
  assert.deepEqual(parsed.ignoredLines, [7]);
  assert.equal(parseDotConfig('CONFIG_A=y\n# CONFIG_A is not set\n').values.get('A'), 'n');
});

test('the reader follows source lines and keeps depends, if/menu blocks, choices, selects and help apart', async () => {
  const kconfig = await readKconfig({ sourceDir: FIXTURES, srcarch: 'toy' });
  assert.deepEqual(kconfig.problems, []);
  const lang = kconfig.entries.get('LANG')?.[0];
  assert.ok(lang);
  assert.deepEqual(
    lang.dependsOn.map((d) => formatExpr(d)),
    ['HAVE_LANG', '!VERSIONS && !PLUGINS', '!BTF || PAHOLE_OK && !LTO'],
  );
  assert.equal(kconfig.entries.has('NOT_AN_ENTRY'), false);
  assert.equal(kconfig.entries.get('VERSIONS')?.[0]?.prompt, true);
  assert.equal(kconfig.entries.get('PLUGINS')?.[0]?.prompt, false);
  assert.equal(formatExpr(kconfig.entries.get('PLUGINS')?.[0]?.defaults[0]?.value as Expr), 'CC_IS_GCC');
  const full = kconfig.entries.get('LAYOUT_FULL')?.[0];
  assert.deepEqual(
    full?.dependsOn.map((d) => formatExpr(d)),
    ['MODULES', 'EXPERT'],
  );
  assert.ok(full?.choice !== null && full?.choice === kconfig.entries.get('LAYOUT_NONE')?.[0]?.choice);
  assert.equal(kconfig.entries.get('LEVEL')?.[0]?.choice, null);
  assert.deepEqual(
    selectorsOf(kconfig, 'HAVE_LANG').map((s) => [
      s.by.name,
      s.by.file,
      s.condition && formatExpr(s.condition),
    ]),
    [['TOY', 'arch/toy/Kconfig', 'TOY_64']],
  );
  assert.equal(kconfig.entries.get('64BIT')?.[0]?.prompt, true);
});

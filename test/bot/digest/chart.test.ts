import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import {
  type Box,
  CHART_COLORS,
  CHART_HEIGHT,
  CHART_WIDTH,
  chartLayout,
  type DayActivity,
  defaultTitle,
  renderActivityChart,
} from '../../../bot/digest/chart.ts';
import { isoWeekOf } from '../../../bot/digest/iso-week.ts';

/*
 * Every check reads the PNG back through pngjs (whose decoder verifies chunk CRCs and the zlib stream) and
 * measures what a person would see: which pixels have the bar, text and legend colours.
 */

type Rgb = readonly [number, number, number];

interface Decoded {
  width: number;
  height: number;
  is(x: number, y: number, color: Rgb): boolean;
}

function decode(png: Uint8Array): Decoded {
  const image = PNG.sync.read(Buffer.from(png));
  const data = image.data;
  return {
    width: image.width,
    height: image.height,
    is(x, y, [r, g, b]) {
      const i = (y * image.width + x) * 4;
      return data[i] === r && data[i + 1] === g && data[i + 2] === b && data[i + 3] === 255;
    },
  };
}

function count(img: Decoded, box: Box, color: Rgb): number {
  let n = 0;
  for (let y = box.top; y < box.bottom; y++)
    for (let x = box.left; x < box.right; x++) if (img.is(x, y, color)) n++;
  return n;
}

/** The tallest run of `color` in any column of the day's slot, measured up from the baseline. */
function barHeight(img: Decoded, day: number, color: Rgb): number {
  const { plot, slots } = chartLayout(7);
  const slot = slots[day]!;
  let tallest = 0;
  for (let x = slot.left; x < slot.right; x++) {
    let h = 0;
    while (plot.bottom - 1 - h >= 0 && img.is(x, plot.bottom - 1 - h, color)) h++;
    tallest = Math.max(tallest, h);
  }
  return tallest;
}

/** The day's column of the chart, from under the legend down to the baseline. */
function slotBox(day: number, dayCount = 7): Box {
  const { legend, plot, slots } = chartLayout(dayCount);
  return { left: slots[day]!.left, right: slots[day]!.right, top: legend.bottom, bottom: plot.bottom };
}

const WEEK: DayActivity[] = [
  { date: '2026-11-23', questions: 5, builds: 2 },
  { date: '2026-11-24', questions: 8, builds: 3 },
  { date: '2026-11-25', questions: 3, builds: 0 },
  { date: '2026-11-26', questions: 9, builds: 4 },
  { date: '2026-11-27', questions: 4, builds: 1 },
  { date: '2026-11-28', questions: 2, builds: 2 },
  { date: '2026-11-29', questions: 3, builds: 0 },
];
const QUIET = WEEK.map((d) => ({ ...d, questions: 0, builds: 0 }));

test('the chart is a PNG that a real decoder reads back at 600×300, 8-bit RGB', () => {
  const png = renderActivityChart(WEEK);
  assert.ok(png instanceof Uint8Array);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const ihdr = Buffer.from(png.subarray(8, 8 + 25));
  assert.equal(ihdr.toString('latin1', 4, 8), 'IHDR');
  assert.equal(ihdr.readUInt32BE(8), CHART_WIDTH);
  assert.equal(ihdr.readUInt32BE(12), CHART_HEIGHT);
  assert.deepEqual([ihdr[16], ihdr[17]], [8, 2], 'bit depth 8, colour type RGB');
  assert.equal(Buffer.from(png.subarray(-12)).toString('latin1', 4, 8), 'IEND');

  const img = decode(png);
  assert.equal(img.width, 600);
  assert.equal(img.height, 300);
  if (existsSync('/usr/bin/file')) {
    const described = execFileSync('/usr/bin/file', ['-b', '-'], { input: png }).toString();
    assert.match(described, /PNG image data, 600 x 300, 8-bit\/color RGB/);
  }
});

test('bar heights follow the counts: the busiest day has the tallest bar, for questions and for builds', () => {
  const img = decode(renderActivityChart(WEEK));
  const questions = WEEK.map((_, i) => barHeight(img, i, CHART_COLORS.questions));
  const builds = WEEK.map((_, i) => barHeight(img, i, CHART_COLORS.builds));

  const busiest = questions.indexOf(Math.max(...questions));
  assert.equal(busiest, 3, `question bar heights ${questions}`);
  for (const [i, h] of questions.entries()) if (i !== busiest) assert.ok(h < questions[busiest]!);
  assert.equal(builds.indexOf(Math.max(...builds)), 3, `build bar heights ${builds}`);

  // Larger counts give strictly taller bars, equal counts equal bars, roughly in proportion.
  for (const [series, heights] of [
    ['questions', questions],
    ['builds', builds],
  ] as const) {
    for (let a = 0; a < 7; a++) {
      for (let b = 0; b < 7; b++) {
        const [va, vb] = [WEEK[a]![series], WEEK[b]![series]];
        if (va > vb) assert.ok(heights[a]! > heights[b]!, `${series}: day ${a} (${va}) vs day ${b} (${vb})`);
        if (va === vb) assert.equal(heights[a], heights[b]);
      }
    }
  }
  assert.ok(
    Math.abs(questions[3]! / questions[2]! - 3) < 0.1,
    `9 vs 3 questions: ${questions[3]} vs ${questions[2]}`,
  );
  // Nothing rises above the y-max line.
  const { plot } = chartLayout(7);
  assert.ok(Math.max(...questions, ...builds) <= plot.bottom - plot.top);
});

test('a day with no builds has no build-coloured pixels in its slot, but still its question bar', () => {
  const img = decode(renderActivityChart(WEEK));
  for (const [i, day] of WEEK.entries()) {
    const buildPixels = count(img, slotBox(i), CHART_COLORS.builds);
    if (day.builds === 0) assert.equal(buildPixels, 0, `day ${i} (${day.date})`);
    else assert.ok(buildPixels > 0, `day ${i} (${day.date}) should show its ${day.builds} builds`);
    assert.ok(count(img, slotBox(i), CHART_COLORS.questions) > 0, `day ${i} question bar`);
  }
});

test('the title is drawn in the title area, and it is the given one (or the week summary by default)', () => {
  const { title } = chartLayout(7);
  const titled = (t?: string) =>
    count(decode(renderActivityChart(WEEK, t === undefined ? {} : { title: t })), title, CHART_COLORS.text);

  const byDefault = titled();
  assert.ok(byDefault > 200, `default title pixels: ${byDefault}`);
  assert.equal(titled(''), 0, 'an empty title leaves the title area blank');
  assert.ok(titled('Hi') > 0 && titled('Hi') < byDefault / 5, 'a short title draws fewer pixels');
  assert.equal(titled(defaultTitle(WEEK)), byDefault);
  // Text too long for the width is shrunk and cut, never drawn past the right edge.
  const long = decode(renderActivityChart(WEEK, { title: 'x'.repeat(500) }));
  assert.ok(count(long, title, CHART_COLORS.text) > 0);
  assert.equal(count(long, { ...title, left: title.right, right: CHART_WIDTH }, CHART_COLORS.text), 0);

  assert.equal(defaultTitle(WEEK), 'Week 2026-W48: 34 questions, 12 builds');
  assert.equal(
    defaultTitle([{ date: '2027-01-01', questions: 1, builds: 1 }]),
    'Week 2026-W53: 1 question, 1 build',
  );
  assert.equal(isoWeekOf(Date.parse('2025-12-29')).label, '2026-W01');
  assert.equal(isoWeekOf(Date.parse('2024-12-30')).label, '2025-W01');
  assert.equal(isoWeekOf(Date.parse('2021-01-03')).label, '2020-W53');
});

test('the legend shows both colours, and every day gets a label under the baseline', () => {
  const img = decode(renderActivityChart(WEEK));
  const { legend, plot } = chartLayout(7);
  assert.ok(count(img, legend, CHART_COLORS.questions) >= 100, 'questions swatch');
  assert.ok(count(img, legend, CHART_COLORS.builds) >= 100, 'builds swatch');
  assert.ok(count(img, legend, CHART_COLORS.text) > 100, 'legend words');
  for (let i = 0; i < 7; i++) {
    const below = { ...slotBox(i), top: plot.bottom + 2, bottom: CHART_HEIGHT };
    assert.ok(count(img, below, CHART_COLORS.text) > 0, `weekday label of day ${i}`);
    assert.ok(count(img, below, CHART_COLORS.muted) > 0, `MM-DD label of day ${i}`);
  }
});

test('zero activity renders an empty chart with "no activity" and no bars', () => {
  for (const days of [QUIET, []]) {
    const img = decode(renderActivityChart(days));
    const { legend, plot } = chartLayout(days.length);
    const inside = { ...plot, top: legend.bottom };
    assert.equal(count(img, inside, CHART_COLORS.questions), 0);
    assert.equal(count(img, inside, CHART_COLORS.builds), 0);
    assert.ok(count(img, plot, CHART_COLORS.muted) > 50, '"no activity" text');
    assert.ok(count(img, chartLayout(7).title, CHART_COLORS.text) > 0, 'title still drawn');
  }
  assert.equal(defaultTitle(QUIET), 'Week 2026-W48: 0 questions, 0 builds');
  // A busy week draws no "no activity" text in the plot (its only muted pixels are the mid-axis label).
  const busy = decode(renderActivityChart(WEEK));
  const { plot } = chartLayout(7);
  assert.equal(count(busy, plot, CHART_COLORS.muted), 0);
});

test('large counts scale: 10,000 fills the plot height and small days still show a sliver', () => {
  const days = WEEK.map((d, i) => ({ ...d, questions: i === 3 ? 10_000 : 1 + 40 * i, builds: i * 700 }));
  const img = decode(renderActivityChart(days));
  const { legend, plot } = chartLayout(7);
  const heights = days.map((_, i) => barHeight(img, i, CHART_COLORS.questions));
  assert.equal(heights[3], plot.bottom - plot.top, 'the 10,000 bar reaches the y-max line');
  assert.ok(heights[0]! >= 1, 'a day with 1 question is still visible');
  assert.ok(heights.every((h, i) => i === 3 || h < heights[3]!));
  assert.equal(
    count(img, { ...plot, top: legend.bottom, bottom: plot.top }, CHART_COLORS.questions),
    0,
    'no bar above the plot',
  );
  // The y-axis label "10,000" is wider than "10": more text pixels left of the plot.
  const axis = { left: 0, right: plot.left - 2, top: plot.top - 10, bottom: plot.top + 10 };
  const small = decode(renderActivityChart(WEEK));
  assert.ok(count(img, axis, CHART_COLORS.text) > count(small, axis, CHART_COLORS.text) * 2);
  assert.match(defaultTitle(days), /: 10,\d{3} questions, 14,700 builds$/);
});

test('rendering is quick and deterministic', () => {
  const start = performance.now();
  const a = renderActivityChart(WEEK);
  assert.ok(performance.now() - start < 1000);
  assert.deepEqual(renderActivityChart(WEEK), a);
});

test('malformed input is refused with a RangeError', () => {
  const day = WEEK[0]!;
  for (const bad of [
    [{ ...day, date: '2026-13-01' }],
    [{ ...day, date: '2026-02-30' }],
    [{ ...day, date: '23.11.2026' }],
    [{ ...day, questions: -1 }],
    [{ ...day, builds: 1.5 }],
    [{ ...day, builds: Number.NaN }],
    Array.from({ length: 32 }, () => day),
  ]) {
    assert.throws(() => renderActivityChart(bad), RangeError, JSON.stringify(bad[0]));
  }
});

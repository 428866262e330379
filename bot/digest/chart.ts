/**
 * The weekly digest's activity chart: grouped bars (questions and builds per day) drawn into an RGB raster
 * with our own 5×7 bitmap font, and encoded by pngjs (pure JavaScript: chunks, CRCs, filtering and deflate
 * are a maintained library's job, not ours). No canvas, no font files, no native modules, so it renders
 * the same on every machine and in a few milliseconds.
 */
import { PNG } from 'pngjs';
import { formatCount, plural } from '../../config/words.ts';
import { isoWeekOf } from './iso-week.ts';

export interface DayActivity {
  /** Calendar day, YYYY-MM-DD (read as UTC). */
  date: string;
  questions: number;
  builds: number;
}

export interface ChartOptions {
  /** Defaults to "Week YYYY-Www: N questions, M builds" from the first day's ISO week and the totals. */
  title?: string;
}

type Rgb = readonly [number, number, number];

export const CHART_WIDTH = 600;
export const CHART_HEIGHT = 300;
/** Most days one chart takes (a month); more would make bars too thin to read. */
export const MAX_DAYS = 31;

export const CHART_COLORS = {
  background: [255, 255, 255],
  questions: [37, 99, 235],
  builds: [234, 138, 0],
  text: [33, 37, 41],
  muted: [108, 117, 125],
  axis: [73, 80, 87],
  grid: [225, 229, 234],
} as const satisfies Record<string, Rgb>;

export interface Box {
  left: number;
  top: number;
  /** Exclusive. */
  right: number;
  /** Exclusive. */
  bottom: number;
}

export interface ChartLayout {
  width: number;
  height: number;
  title: Box;
  legend: Box;
  /** Bars stand on `plot.bottom` (the baseline row) and reach at most up to `plot.top` (the y-max line). */
  plot: Box;
  /** One horizontal slot per day, inside the plot; the day's two bars are drawn within it. */
  slots: { left: number; right: number }[];
}

const MARGIN = 16;
const PLOT_LEFT = 100;
const PLOT_TOP = 70;
const BASELINE = 248;

/** Where everything goes for a chart of `dayCount` days (the same for any counts). */
export function chartLayout(dayCount: number): ChartLayout {
  const plot = { left: PLOT_LEFT, top: PLOT_TOP, right: CHART_WIDTH - MARGIN, bottom: BASELINE };
  const n = Math.max(1, dayCount);
  const slotWidth = (plot.right - plot.left) / n;
  const slots = Array.from({ length: Math.max(0, dayCount) }, (_, i) => ({
    left: Math.round(plot.left + i * slotWidth),
    right: Math.round(plot.left + (i + 1) * slotWidth),
  }));
  return {
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    title: { left: MARGIN, top: 8, right: CHART_WIDTH - MARGIN, bottom: 32 },
    legend: { left: MARGIN, top: 36, right: CHART_WIDTH - MARGIN, bottom: 58 },
    plot,
    slots,
  };
}

/** Renders the chart as a PNG (8-bit RGB, CHART_WIDTH × CHART_HEIGHT). Throws on malformed input. */
export function renderActivityChart(days: readonly DayActivity[], options: ChartOptions = {}): Uint8Array {
  validate(days);
  const layout = chartLayout(days.length);
  const { plot } = layout;
  const img = new Raster(CHART_WIDTH, CHART_HEIGHT, CHART_COLORS.background);

  const title = options.title ?? defaultTitle(days);
  const titleScale = textWidth(title, 2) <= boxWidth(layout.title) ? 2 : 1;
  const titleText = fitText(title, titleScale, boxWidth(layout.title));
  img.text(layout.title.left, layout.title.top + 2, titleText, titleScale, CHART_COLORS.text);

  drawLegend(img, layout.legend);

  const peak = Math.max(0, ...days.map((d) => Math.max(d.questions, d.builds)));
  const yMax = niceCeiling(peak);
  const plotHeight = plot.bottom - plot.top;

  // Axes: y-max grid line and label, baseline and "0", left axis.
  if (yMax > 0) {
    const middle = plot.top + Math.round(plotHeight / 2);
    img.fill(plot.left, plot.top, plot.right, plot.top + 1, CHART_COLORS.grid);
    img.fill(plot.left, middle, plot.right, middle + 1, CHART_COLORS.grid);
    axisLabel(img, formatCount(yMax), plot.top, plot.left);
    if (yMax % 2 === 0) axisLabel(img, formatCount(yMax / 2), middle, plot.left, CHART_COLORS.muted);
  }
  axisLabel(img, '0', plot.bottom, plot.left);
  img.fill(plot.left - 1, plot.top, plot.left, plot.bottom + 2, CHART_COLORS.axis);
  img.fill(plot.left - 5, plot.top, plot.left - 1, plot.top + 1, CHART_COLORS.axis);
  img.fill(plot.left - 1, plot.bottom, plot.right, plot.bottom + 2, CHART_COLORS.axis);

  if (peak === 0) {
    const message = 'no activity';
    const x = Math.round((plot.left + plot.right - textWidth(message, 2)) / 2);
    img.text(x, Math.round((plot.top + plot.bottom) / 2) - 7, message, 2, CHART_COLORS.muted);
  }

  days.forEach((day, i) => {
    const slot = layout.slots[i]!;
    const width = slot.right - slot.left;
    const pad = Math.max(1, Math.round(width * 0.14));
    const gap = width >= 20 ? 2 : 0;
    const barWidth = Math.max(1, Math.floor((width - 2 * pad - gap) / 2));
    const qLeft = slot.left + pad;
    const bLeft = qLeft + barWidth + gap;
    for (const [value, left, color] of [
      [day.questions, qLeft, CHART_COLORS.questions],
      [day.builds, bLeft, CHART_COLORS.builds],
    ] as const) {
      if (value <= 0) continue;
      // A non-zero day always shows at least a sliver, however large the busiest day.
      const height = Math.max(2, Math.round((value / yMax) * plotHeight));
      img.fill(left, plot.bottom - height, left + barWidth, plot.bottom, color);
    }
    drawDayLabels(img, day.date, slot, plot.bottom + 8);
  });

  return img.toPng();
}

/** "Week 2026-W48: 34 questions, 12 builds" (ISO week of the first day; "Activity" when there are no days). */
export function defaultTitle(days: readonly DayActivity[]): string {
  const questions = days.reduce((sum, d) => sum + d.questions, 0);
  const builds = days.reduce((sum, d) => sum + d.builds, 0);
  const first = days[0];
  const lead = first ? `Week ${isoWeekOf(parseDate(first.date).getTime()).label}` : 'Activity';
  return `${lead}: ${plural(questions, 'question')}, ${plural(builds, 'build')}`;
}

/** The smallest of 1, 2, 5 × 10^k that is at least `n` (0 for 0). */
export function niceCeiling(n: number): number {
  if (n <= 0) return 0;
  let step = 10 ** Math.floor(Math.log10(n));
  for (;;) {
    for (const f of [1, 2, 5]) if (f * step >= n) return f * step;
    step *= 10;
  }
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDate(date: string): Date {
  const m = DATE.exec(date);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!m || !d || d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3])) {
    throw new RangeError(`activity chart: not a YYYY-MM-DD date: ${JSON.stringify(date)}`);
  }
  return d;
}

function validate(days: readonly DayActivity[]): void {
  if (days.length > MAX_DAYS)
    throw new RangeError(`activity chart: at most ${MAX_DAYS} days, got ${days.length}`);
  for (const day of days) {
    parseDate(day.date);
    for (const key of ['questions', 'builds'] as const) {
      const v = day[key];
      if (!Number.isSafeInteger(v) || v < 0) {
        throw new RangeError(`activity chart: ${key} on ${day.date} must be a count, got ${v}`);
      }
    }
  }
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function drawDayLabels(img: Raster, date: string, slot: { left: number; right: number }, top: number): void {
  const width = slot.right - slot.left;
  const center = (slot.left + slot.right) / 2;
  const weekday = WEEKDAYS[parseDate(date).getUTCDay()]!;
  const monthDay = date.slice(5);
  const big = textWidth(weekday, 2) <= width - 2;
  if (textWidth(weekday, big ? 2 : 1) <= width) {
    img.text(
      Math.round(center - textWidth(weekday, big ? 2 : 1) / 2),
      top,
      weekday,
      big ? 2 : 1,
      CHART_COLORS.text,
    );
  }
  if (textWidth(monthDay, 1) <= width - 2) {
    img.text(
      Math.round(center - textWidth(monthDay, 1) / 2),
      top + (big ? 19 : 11),
      monthDay,
      1,
      CHART_COLORS.muted,
    );
  }
}

function drawLegend(img: Raster, box: Box): void {
  const entries = [
    ['questions', CHART_COLORS.questions],
    ['builds', CHART_COLORS.builds],
  ] as const;
  const swatch = 14;
  const widths = entries.map(([label]) => swatch + 6 + textWidth(label, 2));
  let x = box.right - widths.reduce((a, b) => a + b, 0) - 20 * (entries.length - 1);
  entries.forEach(([label, color], i) => {
    img.fill(x, box.top + 2, x + swatch, box.top + 2 + swatch, color);
    img.text(x + swatch + 6, box.top + 2, label, 2, CHART_COLORS.text);
    x += widths[i]! + 20;
  });
}

function axisLabel(
  img: Raster,
  label: string,
  y: number,
  plotLeft: number,
  color: Rgb = CHART_COLORS.text,
): void {
  const scale = textWidth(label, 2) <= plotLeft - MARGIN - 10 ? 2 : 1;
  const x = plotLeft - 10 - textWidth(label, scale);
  img.text(x, y - Math.floor((7 * scale) / 2), label, scale, color);
}

function boxWidth(box: Box): number {
  return box.right - box.left;
}

function fitText(text: string, scale: number, width: number): string {
  if (textWidth(text, scale) <= width) return text;
  let cut = text;
  while (cut.length > 0 && textWidth(`${cut}...`, scale) > width) cut = cut.slice(0, -1);
  return `${cut.trimEnd()}...`;
}

// ---------------------------------------------------------------------------------------------------------
// Font: 5×7 glyphs, one hex byte per row, top row first, bit 4 = leftmost column. Lowercase g, j, p, q, y
// have two more rows that hang below the baseline. Characters without a glyph are drawn as '?'.

/** Rows above the baseline (cap height); text drawn at y occupies y .. y + 7·scale, plus 2·scale for descenders. */
const GLYPH_ROWS = 7;
const DESCENDER_ROWS = 2;
const GLYPH_COLS = 5;
const ADVANCE = GLYPH_COLS + 1;

const FONT_HEX: Record<string, string> = {
  ' ': '00000000000000',
  '0': '0e11131519110e',
  '1': '040c040404040e',
  '2': '0e11010204081f',
  '3': '1f02040201110e',
  '4': '02060a121f0202',
  '5': '1f101e0101110e',
  '6': '0608101e11110e',
  '7': '1f010204080808',
  '8': '0e11110e11110e',
  '9': '0e11110f01020c',
  A: '0e1111111f1111',
  B: '1e11111e11111e',
  C: '0e11101010110e',
  D: '1c12111111121c',
  E: '1f10101e10101f',
  F: '1f10101e101010',
  G: '0e11101711110f',
  H: '1111111f111111',
  I: '0e04040404040e',
  J: '0702020202120c',
  K: '11121418141211',
  L: '1010101010101f',
  M: '111b1515111111',
  N: '11111915131111',
  O: '0e11111111110e',
  P: '1e11111e101010',
  Q: '0e11111115120d',
  R: '1e11111e141211',
  S: '0f10100e01011e',
  T: '1f040404040404',
  U: '1111111111110e',
  V: '11111111110a04',
  W: '1111111515150a',
  X: '11110a040a1111',
  Y: '1111110a040404',
  Z: '1f01020408101f',
  a: '00000e010f110f',
  b: '1010161911111e',
  c: '00000e1010110e',
  d: '01010d1311110f',
  e: '00000e111f100e',
  f: '0609081c080808',
  g: '00000f1111110f010e',
  h: '10101619111111',
  i: '04000c0404040e',
  j: '02000602020202120c',
  k: '10101214181412',
  l: '0c04040404040e',
  m: '00001a15151111',
  n: '00001619111111',
  o: '00000e1111110e',
  p: '00001e1111111e1010',
  q: '00000f1111110f0101',
  r: '00001619101010',
  s: '00000e100e011e',
  t: '08081c08080906',
  u: '0000111111130d',
  v: '00001111110a04',
  w: '0000111115150a',
  x: '0000110a040a11',
  y: '0000111111110f010e',
  z: '00001f0204081f',
  '-': '0000001f000000',
  ':': '000c0c000c0c00',
  ',': '000000000c0408',
  '.': '00000000000c0c',
  "'": '0c040800000000',
  '/': '00010204081000',
  '(': '02040808080402',
  ')': '08040202020408',
  '?': '0e110102040004',
  '!': '04040404000004',
  '#': '0a0a1f0a1f0a0a',
  '+': '0004041f040400',
  '=': '00001f001f0000',
  '%': '18190204081303',
  _: '0000000000001f',
};

const FONT: ReadonlyMap<string, Uint8Array> = new Map(
  Object.entries(FONT_HEX).map(([ch, hex]) => {
    const rows = hex.length / 2;
    if (rows !== GLYPH_ROWS && rows !== GLYPH_ROWS + DESCENDER_ROWS) {
      throw new Error(`digest-chart font: bad glyph ${JSON.stringify(ch)}`);
    }
    return [
      ch,
      Uint8Array.from({ length: rows }, (_, r) => Number.parseInt(hex.slice(r * 2, r * 2 + 2), 16)),
    ];
  }),
);

/** Width in pixels of `text` drawn at `scale` (no trailing spacing). */
export function textWidth(text: string, scale: number): number {
  const n = [...text].length;
  return n === 0 ? 0 : (n * ADVANCE - 1) * scale;
}

// ---------------------------------------------------------------------------------------------------------
// Raster and PNG encoding.

class Raster {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;

  constructor(width: number, height: number, background: Rgb) {
    this.width = width;
    this.height = height;
    this.pixels = new Uint8Array(width * height * 3);
    this.fill(0, 0, width, height, background);
  }

  /** Fills [x0, x1) × [y0, y1), clipped to the image. */
  fill(x0: number, y0: number, x1: number, y1: number, [r, g, b]: Rgb): void {
    const left = Math.max(0, Math.floor(x0));
    const right = Math.min(this.width, Math.floor(x1));
    const top = Math.max(0, Math.floor(y0));
    const bottom = Math.min(this.height, Math.floor(y1));
    for (let y = top; y < bottom; y++) {
      for (let x = left; x < right; x++) {
        const i = (y * this.width + x) * 3;
        this.pixels[i] = r;
        this.pixels[i + 1] = g;
        this.pixels[i + 2] = b;
      }
    }
  }

  text(x: number, y: number, text: string, scale: number, color: Rgb): void {
    let cx = x;
    for (const ch of text) {
      const glyph = FONT.get(ch) ?? FONT.get('?')!;
      for (let row = 0; row < glyph.length; row++) {
        const bits = glyph[row]!;
        for (let col = 0; col < GLYPH_COLS; col++) {
          if (bits & (0x10 >> col)) {
            const px = cx + col * scale;
            const py = y + row * scale;
            this.fill(px, py, px + scale, py + scale, color);
          }
        }
      }
      cx += ADVANCE * scale;
    }
  }

  toPng(): Uint8Array {
    const image = new PNG({ width: this.width, height: this.height });
    image.data = Buffer.from(this.pixels.buffer, this.pixels.byteOffset, this.pixels.byteLength);
    // 8-bit RGB in and out: no alpha channel to store for an opaque chart.
    return PNG.sync.write(image, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
  }
}

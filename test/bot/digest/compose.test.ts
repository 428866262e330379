/**
 * The digest's content as maintainers read it: the lead first with the week's numbers, a quiet week in
 * one line, the most asked topics, the docs gaps with what the bot tried, pass rates, docs changes and
 * feed news with patch series grouped; ISO weeks at their edges.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { renderDiscord } from '../../../bot/adapters/discord/render.ts';
import { renderMatrix } from '../../../bot/adapters/matrix/render.ts';
import { compareDocs, composeDigest, type DocSection, docSections } from '../../../bot/digest/compose.ts';
import { groupPatchSeries } from '../../../bot/digest/feeds/series.ts';
import { isoWeekOf, reportedWeek } from '../../../bot/digest/iso-week.ts';
import type { ActivityEvent } from '../../../jobs/activity.ts';
import type { Passage } from '../../../knowledge/passage.ts';

const week = isoWeekOf(Date.UTC(2026, 10, 25, 12)); // Wednesday of 2026-W48
const day = (n: number, hour = 10) => week.start + n * 86_400_000 + hour * 3_600_000;
const noDocs = compareDocs([], []);

const question = (
  at: number,
  text: string,
  answered: boolean,
  topic: string,
  asked: 'in public' | 'in private' | 'before it was recorded' = 'in public',
): ActivityEvent => ({
  type: 'question',
  at,
  platform: 'matrix',
  asker: 'a1',
  question: text,
  ...(asked === 'before it was recorded' ? {} : { private: asked === 'in private' }),
  answered,
  confidence: answered ? 0.8 : 0.05,
  kernelVersion: '6.1.192',
  passages: [{ title: topic, url: `https://docs.example/${encodeURIComponent(topic)}` }],
});
const job = (at: number, kind: 'build' | 'check-config', outcome: string, boot = false): ActivityEvent =>
  ({
    type: 'job',
    at,
    jobId: `j${at}`,
    kind,
    boot,
    outcome,
    durationMs: 3000,
    kernelVersion: '6.1.192',
  }) as ActivityEvent;

test('ISO weeks: Monday to Monday in UTC, the year of their Thursday; a digest reports the last full week', () => {
  assert.equal(week.label, '2026-W48');
  assert.equal(new Date(week.start).toISOString(), '2026-11-23T00:00:00.000Z');
  assert.equal(
    isoWeekOf(Date.UTC(2027, 0, 1)).label,
    '2026-W53',
    'New Year’s Day 2027 is in 2026’s last week',
  );
  assert.equal(isoWeekOf(Date.UTC(2024, 11, 30)).label, '2025-W01');
  assert.equal(
    reportedWeek(Date.UTC(2026, 10, 30, 9)).label,
    '2026-W48',
    'Monday 09:00 reports the week before',
  );
  assert.equal(reportedWeek(Date.UTC(2026, 10, 30, 9), true).label, '2026-W49');
});

test('a quiet week is one line', () => {
  const digest = composeDigest({ week, events: [], docs: noDocs, feeds: [] });
  assert.equal(digest.quiet, true);
  assert.equal(digest.details.length, 0);
  assert.equal(digest.chartPng, null);
  assert.match(digest.lead.lead, /^📰 Rust-for-Linux week 2026-W48: a quiet week/);
  assert.equal(digest.lead.details.length, 0);
});

test('the lead gives the numbers; the thread the topics, gaps with what was tried, and pass rates', () => {
  const events: ActivityEvent[] = [
    question(day(0), 'which rustc for 6.1?', true, 'Quick Start › rustc'),
    question(day(1), 'rustc version for 6.1 please', true, 'Quick Start › rustc'),
    question(day(1), 'how do I enable CONFIG_RUST?', true, 'Quick Start › Configuration'),
    question(day(2), 'can I write a GPU driver in Rust today?', false, 'Rust › General information'),
    {
      type: 'feedback',
      at: day(3),
      platform: 'discord',
      rater: 'r1',
      rating: 'down',
      question: 'how do I enable CONFIG_RUST?',
      private: false,
      sources: ['https://docs.example/config'],
    },
    job(day(2), 'build', 'success', true),
    job(day(2), 'build', 'compile-error'),
    job(day(4), 'build', 'success'),
    job(day(4), 'check-config', 'config-problems'),
  ];
  const digest = composeDigest({ week, events, docs: noDocs, feeds: [] });
  assert.equal(
    digest.lead.lead,
    '📰 Rust-for-Linux week 2026-W48: 4 questions (1 unanswered); 3 builds (67% passed, 1 booted in QEMU), 1 config check (0% could have Rust).',
  );
  const [topics, gaps, jobs] = digest.details;
  assert.equal(topics?.lead, 'Most asked about:');
  assert.match(topics!.details[0]!, /^• Quick Start › rustc https:\/\/\S+ — 2 questions$/);
  assert.match(gaps!.lead, /1 question I could not answer, 1 answer marked 👎/);
  assert.match(
    gaps!.details[0]!,
    /“can I write a GPU driver in Rust today\?” \(not answered\) — tried Rust › General information https:/,
  );
  assert.match(
    gaps!.details[1]!,
    /“how do I enable CONFIG_RUST\?” \(👎\) — tried source 1 https:\/\/docs\.example\/config/,
  );
  assert.match(jobs!.details[0]!, /compile-error: 1, config-problems: 1/);
  // The chart: a real PNG of the week.
  const png = PNG.sync.read(Buffer.from(digest.chartPng!, 'base64'));
  assert.ok(png.width >= 300 && png.height >= 150);
});

test('questions asked in private are counted in the digest, never quoted', () => {
  const secret = 'my employer’s driver at [RFL login](https://evil.example/phish) fails to build';
  const events: ActivityEvent[] = [
    question(day(1), secret, false, 'Rust › General information', 'in private'),
    question(day(2), 'which rustc for 6.1?', true, 'Quick Start › rustc', 'in private'),
    {
      type: 'feedback',
      at: day(3),
      platform: 'matrix',
      rater: 'r1',
      rating: 'down',
      question: 'which rustc for 6.1?',
      private: true,
      sources: ['https://docs.example/rustc'],
    },
    // Recorded before questions were marked public or private: taken as private.
    question(
      day(3),
      'an old unmarked question',
      false,
      'Rust › General information',
      'before it was recorded',
    ),
  ];
  const digest = composeDigest({ week, events, docs: noDocs, feeds: [] });
  assert.match(digest.lead.lead, /3 questions \(2 unanswered\)/);
  const everything = JSON.stringify([digest.lead, digest.details]);
  for (const text of [secret, 'evil.example', 'which rustc for 6.1?', 'an old unmarked question'])
    assert.ok(!everything.includes(text), `${text} is not quoted`);
  const gaps = digest.details.find((m) => m.lead.startsWith('Docs gaps:'));
  assert.deepEqual(gaps?.details, ['• 3 more asked in direct messages: counted, not quoted.']);
});

test('a public question with a Markdown link or HTML is quoted as text on Discord and Matrix', () => {
  const asked = 'how do I log in at [RFL login](https://evil.example/phish)? @everyone <b>now</b>';
  const digest = composeDigest({
    week,
    events: [question(day(1), asked, false, 'Rust › General information')],
    docs: noDocs,
    feeds: [],
  });
  const gaps = digest.details.find((m) => m.lead.startsWith('Docs gaps:'))!;
  const discord = renderDiscord(gaps).messages.join('\n');
  assert.match(
    discord,
    /“how do I log in at \\\[RFL login\\\]\(<https:\/\/evil\.example\/phish>\)\? @\u200beveryone \\<b>now\\<\/b>”/,
  );
  const matrix = renderMatrix(gaps);
  assert.match(
    matrix.html,
    /“how do I log in at \[RFL login\]\(https:\/\/evil\.example\/phish\)\? @everyone &#60;b&#62;now&#60;\/b&#62;”/,
  );
  assert.doesNotMatch(matrix.html, /<a |<b>/);
});

const passage = (path: string, section: string[], text: string, version = '6.1.192'): Passage =>
  ({
    id: `${path}#${section.join('/')}`,
    tree: `linux-${version}`,
    kernelVersion: version,
    path,
    sectionPath: section,
    anchor: null,
    kind: 'doc',
    text,
    code: [],
    url: `https://docs.example/${path}`,
    lines: [1, 10],
  }) satisfies Passage;

test('docs changes: new and changed sections since the last digest; a stable update changes nothing', () => {
  const before = docSections([
    passage('rust/quick-start.rst', ['Quick Start', 'rustc'], 'Use 1.62.'),
    passage('rust/quick-start.rst', ['Quick Start', 'bindgen'], 'Use 0.56.'),
  ]);
  const after = docSections([
    passage('rust/quick-start.rst', ['Quick Start', 'rustc'], 'Use 1.62.', '6.1.200'),
    passage('rust/quick-start.rst', ['Quick Start', 'bindgen'], 'Use 0.60.', '6.1.200'),
    passage('rust/testing.rst', ['Testing', 'KUnit'], 'Run the doctests.', '6.1.200'),
  ]);
  const changes = compareDocs(before, after);
  assert.deepEqual(
    [changes.added.map((s) => s.title), changes.changed.map((s) => s.title), changes.removed],
    [['Testing › KUnit'], ['Quick Start › bindgen'], 0],
  );
  const digest = composeDigest({ week, events: [], docs: changes, feeds: [] });
  assert.equal(digest.quiet, false);
  const docs = digest.details.find((m) => m.lead === 'Changes in the indexed docs:');
  assert.deepEqual(
    docs?.details.map((line) => line.replace(/ https:\S+/, '')),
    ['• new: Testing › KUnit', '• changed: Quick Start › bindgen'],
  );
  // The first digest has nothing to compare with: it lists no "changes".
  const first: DocSection[] | null = null;
  assert.equal(compareDocs(first, after).first, true);
  assert.equal(composeDigest({ week, events: [], docs: compareDocs(first, after), feeds: [] }).quiet, true);
});

test('feed news: a patch series is one entry with its version, parts and replies; failures are named', () => {
  const item = (id: string, title: string) => ({
    id,
    title,
    link: `https://lists.example/${id}`,
    published: new Date(day(1)).toISOString(),
    author: 'A. Developer',
  });
  const entries = groupPatchSeries([
    item('c', '[PATCH v2 0/2] rust: add a widget abstraction'),
    item('p1', '[PATCH v2 1/2] rust: widget: add the type'),
    item('p2', '[PATCH v2 2/2] rust: widget: add a sample'),
    item('r1', 'Re: [PATCH v2 1/2] rust: widget: add the type'),
    item('n', 'Rust for Linux meeting notes'),
  ]);
  const digest = composeDigest({
    week,
    events: [],
    docs: noDocs,
    feeds: [
      { feed: 'rust-for-linux list', entries },
      { feed: 'broken feed', entries: [], failure: 'it answered HTTP 500' },
    ],
  });
  assert.match(digest.lead.lead, /2 new threads on the feeds/);
  const news = digest.details.find((m) => m.lead === 'New on the feeds:');
  assert.deepEqual(news?.details, [
    '• [PATCH v2 0/2] rust: add a widget abstraction https://lists.example/c — A. Developer, 1 reply',
    '• Rust for Linux meeting notes https://lists.example/n',
    'broken feed: could not be read this week (it answered HTTP 500).',
  ]);
});

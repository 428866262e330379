/**
 * The weekly digest's content, from what happened (jobs/activity.ts), what changed in the indexed docs
 * and what the configured feeds brought: a short lead, then the details for its thread, and a chart.
 * Pure: the service (bot/digest/service.ts) gathers the inputs and posts the result.
 */
import { createHash } from 'node:crypto';
import { plural } from '../../config/words.ts';
import type { ActivityEvent, PassageRef } from '../../jobs/activity.ts';
import { kernelSeries } from '../../jobs/kernel/version.ts';
import type { Passage } from '../../knowledge/passage.ts';
import type { RichMessage } from '../chat/rich-message.ts';
import { type DayActivity, renderActivityChart } from './chart.ts';
import type { DigestEntry } from './feeds/series.ts';
import type { IsoWeek } from './iso-week.ts';

const DAY_MS = 24 * 3600 * 1000;
const TOP_TOPICS = 5;
const MAX_GAPS = 10;
const MAX_DOC_CHANGES = 10;
const MAX_FEED_ENTRIES = 10;

/** One section of the indexed docs as the digest compares them week to week. */
export interface DocSection {
  key: string;
  title: string;
  url: string;
  hash: string;
}

/** The sections of the indexed docs (a long section is several passages: one hash over all of them). */
export function docSections(passages: readonly Passage[]): DocSection[] {
  const sections = new Map<string, { title: string; url: string; hash: ReturnType<typeof createHash> }>();
  for (const passage of passages) {
    if (passage.kind === 'faq') continue;
    // The kernel series, not the full version: a stable update is not "every section changed".
    const series = passage.kernelVersion === null ? passage.tree : kernelSeries(passage.kernelVersion);
    const key = `${series}:${passage.path}#${passage.sectionPath.join(' > ')}`;
    let section = sections.get(key);
    if (!section) {
      section = { title: passage.sectionPath.join(' › '), url: passage.url, hash: createHash('sha256') };
      sections.set(key, section);
    }
    section.hash.update(passage.text).update('\u0000').update(passage.code.join('\u0000'));
  }
  return [...sections].map(([key, s]) => ({ key, title: s.title, url: s.url, hash: s.hash.digest('hex') }));
}

export interface DocsChanges {
  added: DocSection[];
  changed: DocSection[];
  removed: number;
  /** No earlier snapshot: this is the first digest, so nothing is "new". */
  first: boolean;
}

export function compareDocs(before: readonly DocSection[] | null, now: readonly DocSection[]): DocsChanges {
  if (before === null) return { added: [], changed: [], removed: 0, first: true };
  const earlier = new Map(before.map((s) => [s.key, s.hash]));
  const keys = new Set(now.map((s) => s.key));
  return {
    added: now.filter((s) => !earlier.has(s.key)),
    changed: now.filter((s) => earlier.has(s.key) && earlier.get(s.key) !== s.hash),
    removed: before.filter((s) => !keys.has(s.key)).length,
    first: false,
  };
}

export interface FeedNews {
  feed: string;
  entries: DigestEntry[];
  /** Why the feed could not be read this week, when it could not. */
  failure?: string;
}

export interface DigestInput {
  week: IsoWeek;
  events: readonly ActivityEvent[];
  docs: DocsChanges;
  feeds: readonly FeedNews[];
}

export interface Digest {
  week: string;
  quiet: boolean;
  /** The lead message; the details go in its thread, one message each. */
  lead: RichMessage;
  details: RichMessage[];
  /** PNG bytes, base64 (the digest is stored as JSON); null for a quiet week. */
  chartPng: string | null;
}

type Question = Extract<ActivityEvent, { type: 'question' }>;
type Feedback = Extract<ActivityEvent, { type: 'feedback' }>;
type JobEvent = Extract<ActivityEvent, { type: 'job' }>;

const percent = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((100 * part) / whole));
const short = (text: string, max = 120) => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
};
/** Plain text: every client links a bare URL, and no renderer has to read Markdown links. */
const link = (title: string, url: string) => `${title} ${url}`;

const JOB_PASSED = new Set(['success', 'config-ok']);

/** The week's days with their question and build counts, for the chart. */
function activityByDay(week: IsoWeek, questions: Question[], jobs: JobEvent[]): DayActivity[] {
  return Array.from({ length: 7 }, (_, n) => {
    const from = week.start + n * DAY_MS;
    const within = (event: { at: number }) => event.at >= from && event.at < from + DAY_MS;
    return {
      date: new Date(from).toISOString().slice(0, 10),
      questions: questions.filter(within).length,
      builds: jobs.filter((job) => job.kind !== 'check-config' && within(job)).length,
    };
  });
}

/** The topic of a question: the docs section that answered it (or that it came closest to). */
function topicsOf(questions: Question[]): [PassageRef, number][] {
  const counts = new Map<string, { ref: PassageRef; count: number }>();
  for (const question of questions) {
    const top = question.passages[0];
    if (!top) continue;
    const entry = counts.get(top.url) ?? { ref: top, count: 0 };
    entry.count += 1;
    counts.set(top.url, entry);
  }
  return [...counts.values()]
    .sort((a, b) => b.count - a.count || a.ref.title.localeCompare(b.ref.title))
    .slice(0, TOP_TOPICS)
    .map(({ ref, count }) => [ref, count]);
}

/** Only questions asked in public are quoted; private ones (and older events not marked) are counted. */
const quotable = (event: Question | Feedback) => event.private === false;

/** Questions the bot could not answer or whose answer got a 👎: the docs gaps, with what it tried. */
function gapsOf(questions: Question[], feedback: Feedback[]): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  const add = (question: string, tried: string[], why: string) => {
    const key = question.trim().toLowerCase();
    if (seen.has(key) || lines.length >= MAX_GAPS) return;
    seen.add(key);
    const pointers = tried.length > 0 ? ` — tried ${tried.join(', ')}` : '';
    lines.push(`• “${short(question)}” (${why})${pointers}`);
  };
  const unanswered = questions.filter((q) => !q.answered);
  const downvoted = feedback.filter((f) => f.rating === 'down');
  for (const q of unanswered.filter(quotable))
    add(
      q.question,
      q.passages.slice(0, 2).map((p) => link(p.title, p.url)),
      'not answered',
    );
  for (const f of downvoted.filter(quotable))
    add(
      f.question,
      f.sources.slice(0, 2).map((url, n) => link(`source ${n + 1}`, url)),
      '👎',
    );
  const unquoted = [...unanswered, ...downvoted].filter((event) => !quotable(event)).length;
  if (unquoted > 0) lines.push(`• ${unquoted} more asked in direct messages: counted, not quoted.`);
  return lines;
}

function jobsLine(jobs: JobEvent[]): string | null {
  if (jobs.length === 0) return null;
  const builds = jobs.filter((job) => job.kind !== 'check-config');
  const checks = jobs.filter((job) => job.kind === 'check-config');
  const passed = (list: JobEvent[]) => list.filter((job) => JOB_PASSED.has(job.outcome)).length;
  const parts: string[] = [];
  if (builds.length > 0) {
    const boots = builds.filter((job) => job.boot).length;
    parts.push(
      `${plural(builds.length, 'build')} (${percent(passed(builds), builds.length)}% passed${boots > 0 ? `, ${boots} booted in QEMU` : ''})`,
    );
  }
  if (checks.length > 0)
    parts.push(
      `${plural(checks.length, 'config check')} (${percent(passed(checks), checks.length)}% could have Rust)`,
    );
  return parts.join(', ');
}

function feedLines(feeds: readonly FeedNews[]): string[] {
  const lines: string[] = [];
  for (const news of feeds) {
    if (news.failure) {
      lines.push(`${news.feed}: could not be read this week (${news.failure}).`);
      continue;
    }
    for (const entry of news.entries.slice(0, MAX_FEED_ENTRIES)) {
      if (entry.kind === 'series') {
        const label = `[${entry.tag}${entry.version > 1 ? ` v${entry.version}` : ''}${entry.parts > 1 ? ` 0/${entry.parts}` : ''}] ${short(entry.title, 100)}`;
        const discussion = entry.replies > 0 ? `, ${plural(entry.replies, 'reply', 'replies')}` : '';
        lines.push(
          `• ${entry.link ? link(label, entry.link) : label}${entry.author ? ` — ${entry.author}` : ''}${discussion}`,
        );
      } else {
        const title = short(entry.item.title, 100);
        lines.push(`• ${entry.item.link ? link(title, entry.item.link) : title}`);
      }
    }
    if (news.entries.length > MAX_FEED_ENTRIES)
      lines.push(`…and ${news.entries.length - MAX_FEED_ENTRIES} more on ${news.feed}.`);
  }
  return lines;
}

const message = (lead: string, details: string[]): RichMessage => ({ lead, details, sources: [] });

export function composeDigest(input: DigestInput): Digest {
  const { week, events, docs } = input;
  const questions = events.filter((e): e is Question => e.type === 'question');
  const feedback = events.filter((e): e is Feedback => e.type === 'feedback');
  const jobs = events.filter((e): e is JobEvent => e.type === 'job');
  const feedEntries = input.feeds.reduce((n, f) => n + f.entries.length, 0);
  const docChanges = docs.added.length + docs.changed.length;
  const unanswered = questions.filter((q) => !q.answered).length;
  const downvoted = feedback.filter((f) => f.rating === 'down').length;

  const quiet = questions.length === 0 && jobs.length === 0 && docChanges === 0 && feedEntries === 0;
  if (quiet) {
    return {
      week: week.label,
      quiet,
      lead: message(
        `📰 Rust-for-Linux week ${week.label}: a quiet week — no questions, builds, docs changes or list news.`,
        [],
      ),
      details: [],
      chartPng: null,
    };
  }

  const summary = [
    questions.length > 0 &&
      `${plural(questions.length, 'question')}${unanswered > 0 ? ` (${unanswered} unanswered)` : ''}`,
    jobsLine(jobs),
    docChanges > 0 && `${plural(docChanges, 'docs section')} new or changed`,
    feedEntries > 0 && `${plural(feedEntries, 'new thread')} on the feeds`,
  ].filter((part): part is string => typeof part === 'string');
  // Where the details are is the target's (service.ts): a thread of the lead, or the same topic.
  const lead = message(`📰 Rust-for-Linux week ${week.label}: ${summary.join('; ')}.`, []);

  const details: RichMessage[] = [];
  const topics = topicsOf(questions);
  if (topics.length > 0)
    details.push(
      message(
        'Most asked about:',
        topics.map(([ref, count]) => `• ${link(ref.title, ref.url)} — ${plural(count, 'question')}`),
      ),
    );
  const gaps = gapsOf(questions, feedback);
  if (gaps.length > 0)
    details.push(
      message(
        `Docs gaps: ${plural(unanswered, 'question')} I could not answer, ${plural(downvoted, 'answer')} marked 👎.`,
        gaps,
      ),
    );
  const jobSummary = jobsLine(jobs);
  if (jobSummary) {
    const failures = jobs.filter((job) => !JOB_PASSED.has(job.outcome));
    const byOutcome = [...new Set(failures.map((job) => job.outcome))].map(
      (outcome) => `${outcome}: ${failures.filter((job) => job.outcome === outcome).length}`,
    );
    details.push(
      message(`Jobs: ${jobSummary}.`, byOutcome.length > 0 ? [`Not passed — ${byOutcome.join(', ')}.`] : []),
    );
  }
  if (docs.first) {
    // Nothing to compare with yet: said once, so the next digest's changes mean something.
  } else if (docChanges > 0 || docs.removed > 0) {
    const changes = [
      ...docs.added.map((s) => `• new: ${link(s.title, s.url)}`),
      ...docs.changed.map((s) => `• changed: ${link(s.title, s.url)}`),
    ];
    const more = changes.length > MAX_DOC_CHANGES ? [`…and ${changes.length - MAX_DOC_CHANGES} more.`] : [];
    const removed = docs.removed > 0 ? [`${plural(docs.removed, 'section')} removed.`] : [];
    details.push(
      message('Changes in the indexed docs:', [...changes.slice(0, MAX_DOC_CHANGES), ...more, ...removed]),
    );
  }
  const news = feedLines(input.feeds);
  if (news.length > 0) details.push(message('New on the feeds:', news));

  const chart = renderActivityChart(activityByDay(week, questions, jobs));
  return { week: week.label, quiet, lead, details, chartPng: Buffer.from(chart).toString('base64') };
}

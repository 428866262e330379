/**
 * Patch-series mail (`[PATCH v3 2/7] …`, replies included) folded into one digest entry per series.
 */
import type { FeedItem } from './feed.ts';

export interface PatchSubject {
  /** `Re:` (or `Fwd:`, `AW:`…) in front: discussion, not a patch. */
  reply: boolean;
  /** The bracket words without version and numbering: "PATCH", "RFC PATCH net-next". */
  tag: string;
  /** 1 without a `vN`. */
  version: number;
  /** m of m/n (0 for a cover letter), or null for a lone patch. */
  part: number | null;
  total: number | null;
  /** The rest of the title: "rust: add foo". */
  subject: string;
}

// One way to split any run of spaces: before the optional [n], or after it (never both).
const REPLY_PREFIX = /^(?:(?:re|fwd?|aw|sv|antw)\s*(?:\[\d+\]\s*)?:\s*)+/i;
const BRACKETS = /^(?:\[[^\]]*\]\s*)+/;

/** `Re: [RFC PATCH net-next v4 3/5] net: foo` to its parts; null when the title is not a patch. */
export function parsePatchSubject(title: string): PatchSubject | null {
  const afterReply = title.replace(REPLY_PREFIX, '');
  const brackets = BRACKETS.exec(afterReply)?.[0];
  if (!brackets) return null;
  const words = brackets.replace(/[[\]]/g, ' ').split(/\s+/).filter(Boolean);
  if (!words.some((word) => /^patch(?:set|es)?$/i.test(word))) return null;
  let version = 1;
  let part: number | null = null;
  let total: number | null = null;
  const tag: string[] = [];
  for (const word of words) {
    const v = /^v(\d+)$/i.exec(word);
    const numbering = /^(\d+)\/(\d+)$/.exec(word);
    if (v) version = Number(v[1]);
    else if (numbering) [part, total] = [Number(numbering[1]), Number(numbering[2])];
    else tag.push(word);
  }
  return {
    reply: afterReply.length !== title.length,
    tag: tag.join(' '),
    version,
    part,
    total,
    subject: afterReply.slice(brackets.length).trim(),
  };
}

export interface SeriesEntry {
  kind: 'series';
  /** The cover letter's subject, else the first patch's (a reply's when only replies arrived). */
  title: string;
  tag: string;
  version: number;
  /** n of m/n; 1 for a lone patch. */
  parts: number;
  /** The cover letter's link, else the first patch's, else the first reply's. */
  link: string | null;
  author: string | null;
  /** How many of `items` are replies. */
  replies: number;
  /** Cover letter, patches by number, then replies oldest first. */
  items: FeedItem[];
}

export type DigestEntry = SeriesEntry | { kind: 'item'; item: FeedItem };

interface Group {
  key: string;
  patches: { item: FeedItem; subject: PatchSubject }[];
  replies: { item: FeedItem; subject: PatchSubject }[];
  first: number;
}

// git send-email posts a series within minutes; the same author, tag, version and size a day apart is
// another series (or a resend).
const SERIES_WINDOW_MS = 24 * 3600_000;

const normal = (subject: string) => subject.toLowerCase().replace(/\s+/g, ' ').trim();

/**
 * Patch mail folded into one entry per series: patches and cover letter by (author, tag, version, size),
 * replies to the series whose patch or cover letter they answer. Other items stay single. Entries come in
 * the order their first item had in `items`.
 */
export function groupPatchSeries(items: readonly FeedItem[]): DigestEntry[] {
  const singles = new Map<number, DigestEntry>();
  const groups: Group[] = [];
  const bySubject = new Map<string, Group>();
  const parsed = items.map((item, index) => ({ item, index, subject: parsePatchSubject(item.title) }));

  const patches = parsed
    .filter((p) => p.subject && !p.subject.reply)
    .sort((a, b) => time(a.item) - time(b.item));
  for (const { item, index, subject } of patches) {
    if (!subject) continue;
    const lone = subject.total === null || subject.total <= 1;
    const key = [
      item.author?.toLowerCase() ?? '',
      subject.tag.toLowerCase(),
      subject.version,
      lone ? `lone:${normal(subject.subject)}` : subject.total,
    ].join('\n');
    let group = groups.find(
      (g) =>
        g.key === key &&
        !g.patches.some((p) => p.subject.part === subject.part) &&
        g.patches.every(
          (p) => Math.abs(time(p.item) - time(item)) <= SERIES_WINDOW_MS || !hasTime(item, p.item),
        ),
    );
    if (!group) {
      group = { key, patches: [], replies: [], first: index };
      groups.push(group);
    }
    group.patches.push({ item, subject });
    group.first = Math.min(group.first, index);
    bySubject.set(`${normal(subject.subject)}\n${subject.version}`, group);
  }

  for (const { item, index, subject } of parsed) {
    if (!subject) {
      singles.set(index, { kind: 'item', item });
      continue;
    }
    if (!subject.reply) continue;
    const answered = `${normal(subject.subject)}\n${subject.version}`;
    let group = bySubject.get(answered);
    if (!group) {
      // A reply to a patch outside this window: its own entry, shared with replies to the same patch.
      group = { key: `reply:${answered}`, patches: [], replies: [], first: index };
      groups.push(group);
      bySubject.set(answered, group);
    }
    group.replies.push({ item, subject });
    group.first = Math.min(group.first, index);
  }

  const entries = [...singles.entries(), ...groups.map((g) => [g.first, seriesEntry(g)] as const)];
  return entries.sort(([a], [b]) => a - b).map(([, entry]) => entry);
}

function seriesEntry(group: Group): SeriesEntry {
  const patches = group.patches.toSorted((a, b) => (a.subject.part ?? 1) - (b.subject.part ?? 1));
  const replies = group.replies.toSorted((a, b) => time(a.item) - time(b.item));
  const cover = patches.find((p) => p.subject.part === 0);
  const lead = cover ?? patches[0] ?? replies[0];
  if (!lead) throw new Error('a series group is never empty');
  return {
    kind: 'series',
    title: lead.subject.subject,
    tag: lead.subject.tag,
    version: lead.subject.version,
    parts: lead.subject.total ?? 1,
    link: (cover ?? patches[0])?.item.link ?? replies.find((r) => r.item.link)?.item.link ?? null,
    author: (cover ?? patches[0])?.item.author ?? null,
    replies: replies.length,
    items: [...patches, ...replies].map((p) => p.item),
  };
}

function time(item: FeedItem): number {
  return item.published ? Date.parse(item.published) : Number.POSITIVE_INFINITY;
}

function hasTime(a: FeedItem, b: FeedItem): boolean {
  return a.published !== null && b.published !== null;
}

/**
 * New items from the configured Atom/RSS feeds, for the weekly digest: fetched with a conditional GET, each
 * item reported once (its id claimed in Redis, so two digest runs or two processes never both report it),
 * and patch-series mail (`[PATCH v3 2/7] …`, replies included) folded into one entry per series.
 *
 * Reading the formats is @rowanmanning/feed-parser's job (Atom, RSS and RDF, their dates, authors,
 * entities and relative links, tested against real-world feeds). It sits on fast-xml-parser, whose
 * validator refuses what is not XML and which defuses entity bombs: entities inside entities stay
 * unexpanded, and expanding past its length cap throws (feed-parser lifts only the count cap; the feeds
 * test holds both). Ours are the HTTP fetch (redirects, deadline, size cap), the Redis claims and the
 * series grouping.
 *
 * Nothing here throws for what a feed sends: HTTP errors, timeouts, huge bodies, redirect loops and
 * malformed XML come back as a failure with a user-facing and a log text. A failure changes no state, so
 * the next good fetch still returns everything not reported yet. Redis errors do throw (our side failed).
 */
import { createHash } from 'node:crypto';
import { parseFeed as readFeed } from '@rowanmanning/feed-parser';
import { XMLValidator } from 'fast-xml-parser';
import type { Redis } from 'ioredis';

/** One `digest.feeds` entry. */
export interface FeedConfig {
  url: string;
  /** What users read in the digest and in failure texts ("rust-for-linux list"). */
  name: string;
}

export interface FeedItem {
  /** Atom id, RSS guid, else the link: what "already reported" is remembered by. */
  id: string;
  /** Plain text: entities decoded, HTML tags of HTML titles stripped. */
  title: string;
  /** Absolute http(s) URL, or null. */
  link: string | null;
  /** ISO 8601 (Atom published, else updated; RSS pubDate, else dc:date), or null. */
  published: string | null;
  author: string | null;
}

/** What the last good fetch answered, for the next conditional GET. */
export interface FeedState {
  etag: string | null;
  lastModified: string | null;
}

export const NO_STATE: FeedState = { etag: null, lastModified: null };

export interface FetchOptions {
  /** The whole fetch, redirects and body included. */
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
  /** Named in the user-facing texts; the URL's host when absent. */
  name?: string;
  userAgent?: string;
}

export const FETCH_DEFAULTS = {
  timeoutMs: 20_000,
  maxBytes: 2 * 1024 * 1024,
  maxRedirects: 3,
  userAgent: 'rfl-onboard-digest/0.1 (feed reader)',
} as const;

export type FeedFailureReason =
  | 'bad-url'
  | 'network'
  | 'timeout'
  | 'http'
  | 'too-large'
  | 'redirects'
  | 'malformed'
  | 'not-a-feed';

export interface FeedFailure {
  ok: false;
  reason: FeedFailureReason;
  userMessage: string;
  logMessage: string;
}

export type FetchResult =
  | { ok: true; notModified: true; items: []; state: FeedState }
  | {
      ok: true;
      notModified: false;
      title: string | null;
      items: FeedItem[];
      state: FeedState;
      /** Where the feed was read after redirects; differs from the URL after a move. */
      finalUrl: string;
    }
  | FeedFailure;

const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

function failure(reason: FeedFailureReason, userMessage: string, logMessage: string): FeedFailure {
  return { ok: false, reason, userMessage, logMessage };
}

export async function fetchFeed(
  url: string,
  state: FeedState,
  options: FetchOptions = {},
): Promise<FetchResult> {
  const timeoutMs = options.timeoutMs ?? FETCH_DEFAULTS.timeoutMs;
  const maxBytes = options.maxBytes ?? FETCH_DEFAULTS.maxBytes;
  const maxRedirects = options.maxRedirects ?? FETCH_DEFAULTS.maxRedirects;
  let current = httpUrl(url);
  const name = `“${options.name ?? current?.host ?? url}”`;
  if (!current) {
    return failure(
      'bad-url',
      `The feed address ${url} is not an http(s) URL; fix it in digest.feeds.`,
      `feed ${url}: not an http(s) URL`,
    );
  }
  const headers: Record<string, string> = {
    'user-agent': options.userAgent ?? FETCH_DEFAULTS.userAgent,
    accept: 'application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1',
  };
  if (state.etag) headers['if-none-match'] = state.etag;
  if (state.lastModified) headers['if-modified-since'] = state.lastModified;
  // One deadline for everything: a server dribbling its body must not hold the digest up either.
  const signal = AbortSignal.timeout(timeoutMs);
  const started = Date.now();
  const visited = new Set<string>();
  try {
    for (let hop = 0; ; hop++) {
      visited.add(current.href);
      // Redirects by hand, to count them and to refuse one to a non-http(s) scheme.
      const response = await fetch(current, { headers, redirect: 'manual', signal });
      const location = response.headers.get('location');
      if (REDIRECTS.has(response.status) && location) {
        await response.body?.cancel();
        const next = httpUrl(location, current);
        if (!next) {
          return failure(
            'redirects',
            `The feed ${name} redirected to an address I do not follow; check it in digest.feeds.`,
            `feed ${url}: redirect from ${current.href} to non-http(s) ${location}`,
          );
        }
        if (hop >= maxRedirects || visited.has(next.href)) {
          const loop = visited.has(next.href) ? 'a redirect loop' : `more than ${maxRedirects} redirects`;
          return failure(
            'redirects',
            `The feed ${name} redirected too often (${loop}); its address in digest.feeds may need updating.`,
            `feed ${url}: ${loop}, last ${current.href} -> ${next.href}`,
          );
        }
        current = next;
        continue;
      }
      if (response.status === 304) {
        await response.body?.cancel();
        return { ok: true, notModified: true, items: [], state };
      }
      if (!response.ok) {
        await response.body?.cancel();
        const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
        const hint =
          response.status === 404 || response.status === 410
            ? 'its address in digest.feeds may have changed'
            : 'I’ll try again next time';
        return failure(
          'http',
          `The feed ${name} answered ${status}; ${hint}.`,
          `feed ${url}: ${status} from ${current.href}`,
        );
      }
      const from = current.href;
      const tooLarge = () =>
        failure(
          'too-large',
          `The feed ${name} is larger than the ${formatMb(maxBytes)} I read; I skipped it this time.`,
          `feed ${url}: body over ${maxBytes} bytes from ${from}`,
        );
      if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
        await response.body?.cancel();
        return tooLarge();
      }
      const body = await readCapped(response.body, maxBytes);
      if (!body) return tooLarge();
      const xml = decode(body, response.headers.get('content-type'));
      const parsed = parseFeed(xml, current.href);
      if (!parsed.ok) {
        return failure(
          parsed.reason,
          parsed.reason === 'malformed'
            ? `The feed ${name} did not send valid XML; I’ll try again next time.`
            : `The feed ${name} is neither Atom nor RSS; check its address in digest.feeds.`,
          `feed ${url}: ${parsed.detail} (from ${current.href}, ${body.byteLength} bytes, ${response.headers.get('content-type') ?? 'no content-type'})`,
        );
      }
      return {
        ok: true,
        notModified: false,
        title: parsed.title,
        items: parsed.items,
        state: { etag: response.headers.get('etag'), lastModified: response.headers.get('last-modified') },
        finalUrl: current.href,
      };
    }
  } catch (error) {
    const elapsed = `${Date.now() - started} ms`;
    if (isTimeout(error)) {
      return failure(
        'timeout',
        `The feed ${name} did not answer within ${Math.round(timeoutMs / 100) / 10} s; I’ll try again next time.`,
        `feed ${url}: timed out after ${elapsed} at ${current.href}`,
      );
    }
    return failure(
      'network',
      `I could not reach the feed ${name}; I’ll try again next time.`,
      `feed ${url}: ${errorText(error)} after ${elapsed} at ${current.href}`,
    );
  }
}

function httpUrl(text: string, base?: URL): URL | null {
  try {
    const url = new URL(text, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** The body, or null once it passes `maxBytes` (then the download stops there). */
async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<Uint8Array | null> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks, size);
    size += value.byteLength;
    if (size > maxBytes) {
      void reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
}

/** The charset from Content-Type, else the XML declaration, else UTF-8. */
function decode(body: Uint8Array, contentType: string | null): string {
  const head = Buffer.from(body.subarray(0, 200)).toString('latin1');
  const label =
    /charset="?([\w.:-]+)/i.exec(contentType ?? '')?.[1] ??
    /^<\?xml[^>]*encoding=["']([\w.:-]+)/.exec(head)?.[1];
  try {
    return new TextDecoder(label ?? 'utf-8').decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}

function isTimeout(error: unknown): boolean {
  const named = (value: unknown) => (value as { name?: unknown } | null)?.name === 'TimeoutError';
  return named(error) || named((error as { cause?: unknown } | null)?.cause);
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause ? `${error.message}: ${[cause.code, cause.message].filter(Boolean).join(' ')}` : error.message;
}

function formatMb(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`
    : `${Math.round(bytes / 1024)} KB`;
}

// ---- parsing ------------------------------------------------------------------------------------------

export type ParsedFeed =
  | { ok: true; kind: 'atom' | 'rss'; title: string | null; items: FeedItem[] }
  | { ok: false; reason: 'malformed' | 'not-a-feed'; detail: string };

type Feed = ReturnType<typeof readFeed>;

/** Atom or RSS text to items; `baseUrl` resolves relative links (the URL the feed came from). */
export function parseFeed(text: string, baseUrl: string): ParsedFeed {
  // feed-parser reads even broken XML (`<feed><entry></feed>`); what is not well-formed is more likely an
  // error page than a feed, so fast-xml-parser's validator gets the first word.
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    return {
      ok: false,
      reason: 'malformed',
      detail: `XML error at line ${valid.err.line}: ${valid.err.msg}`,
    };
  }
  let feed: Feed;
  try {
    feed = readFeed(text);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'INVALID_FEED') {
      return {
        ok: false,
        reason: 'not-a-feed',
        detail: `root element <${rootElement(text)}> is neither Atom <feed> nor RSS <rss>`,
      };
    }
    // fast-xml-parser's caps on entity expansion (a "billion laughs" document) throw here.
    return { ok: false, reason: 'malformed', detail: `XML error: ${errorText(error)}` };
  }
  const feedAuthor = authorNames(feed.authors);
  const items = feed.items.map((entry) => {
    const id = entry.id?.trim() ?? '';
    return item({
      id,
      title: titleText(entry.title),
      // Without a link, an id that is a URL (an RSS permalink guid) is the link.
      link: absolute(entry.url ?? '', baseUrl) ?? httpUrl(id)?.href ?? null,
      published: isoDate(entry.published ?? entry.updated),
      author: authorNames(entry.authors) ?? feedAuthor,
    });
  });
  const kind = feed.meta.type === 'atom' ? 'atom' : 'rss';
  return { ok: true, kind, title: titleText(feed.title) || null, items: unique(items) };
}

function item(fields: Omit<FeedItem, 'id'> & { id: string }): FeedItem | null {
  const id = fields.id || fields.link;
  if (id) return { ...fields, id };
  if (!fields.title) return null;
  // Neither id nor link: the title and date are all that tells items apart.
  const hash = createHash('sha256')
    .update(`${fields.title}\n${fields.published ?? ''}`)
    .digest('hex');
  return { ...fields, id: `sha256:${hash.slice(0, 32)}` };
}

function unique(items: (FeedItem | null)[]): FeedItem[] {
  const seen = new Set<string>();
  return items.filter((i): i is FeedItem => i !== null && !seen.has(i.id) && Boolean(seen.add(i.id)));
}

/** For the log: the first element name outside comments. */
function rootElement(text: string): string {
  return /<([A-Za-z_][\w.:-]*)/.exec(withoutComments(text))?.[1] ?? 'nothing';
}

function absolute(href: string, baseUrl: string): string | null {
  // Only http(s): a javascript: or data: link never reaches a chat message.
  return href ? (httpUrl(href, httpUrl(baseUrl) ?? undefined)?.href ?? null) : null;
}

function isoDate(date: Date | null): string | null {
  return date && !Number.isNaN(date.getTime()) ? date.toISOString() : null;
}

function authorNames(authors: Feed['authors']): string | null {
  const names = authors.map((author) => author.name?.trim()).filter(Boolean);
  return names.length > 0 ? names.join(', ') : null;
}

const TITLE_MAX = 300;

/** Titles come with entities decoded; HTML ones (RSS, Atom type="html") still carry their tags. */
function titleText(title: string | null): string {
  const plain = stripTags(title ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  return plain.length > TITLE_MAX ? `${plain.slice(0, TITLE_MAX - 1)}…` : plain;
}

// Only real HTML element names: `rust: add Box<T>` and `Option<u8>` keep their generics.
const HTML_TAG =
  /<\/?(?:a|abbr|b|big|blockquote|br|cite|code|del|div|em|font|h[1-6]|hr|i|img|ins|kbd|li|mark|ol|p|pre|q|s|samp|small|span|strike|strong|sub|sup|tt|u|ul|var)(?:\s[^<>]*)?\/?>/gi;

function stripTags(html: string): string {
  return withoutComments(html).replace(HTML_TAG, ' ');
}

/**
 * Text without its <!-- … --> comments; an unclosed one runs to the end. By indexOf, not /<!--[^]*?-->/,
 * which rescans the rest of the text from every "<!--" that has no "-->" (quadratic on hostile feeds).
 */
function withoutComments(text: string): string {
  let kept = '';
  let from = 0;
  for (let open = text.indexOf('<!--'); open >= 0; open = text.indexOf('<!--', from)) {
    kept += text.slice(from, open);
    const close = text.indexOf('-->', open + 4);
    if (close < 0) return kept;
    from = close + 3;
  }
  return kept + text.slice(from);
}

// ---- remembering --------------------------------------------------------------------------------------

export type NewItems = { ok: true; items: FeedItem[]; notModified: boolean } | FeedFailure;

// KEYS: the feed's seen set. ARGV: now (ms), how many ids to keep, the ids. Returns the ids newly claimed.
// One script, so of two callers claiming the same id exactly one gets it.
const CLAIM = `
local won = {}
for i = 3, #ARGV do
  if redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[i]) == 1 then won[#won + 1] = ARGV[i] end
end
local keep = math.max(tonumber(ARGV[2]), #ARGV - 2)
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -keep - 1)
return won
`;

export const DEFAULT_KEEP_IDS = 2000;

export class FeedStore {
  readonly #redis: Redis;
  readonly #namespace: string;
  readonly #keepIds: number;

  /**
   * Keys are `<namespace>:feed:<url hash>:seen` (a sorted set of reported ids, scored by when they were
   * first reported) and `…:http` (the ETag/Last-Modified). `keepIds` bounds the set; it must exceed the
   * number of items a feed lists at once, or the oldest would come back (a claim never trims below the
   * batch it just claimed, so one fetch cannot evict itself).
   */
  constructor(redis: Redis, namespace: string, options: { keepIds?: number } = {}) {
    this.#redis = redis;
    this.#namespace = namespace;
    this.#keepIds = options.keepIds ?? DEFAULT_KEEP_IDS;
  }

  #key(feedUrl: string, kind: 'seen' | 'http'): string {
    const hash = createHash('sha256').update(feedUrl).digest('hex').slice(0, 16);
    return `${this.#namespace}:feed:${hash}:${kind}`;
  }

  /**
   * The items of the feed not reported before, each to exactly one caller. They count as reported once
   * returned: a caller that then fails to post them does not get them again.
   */
  async newItems(feed: FeedConfig, options: Omit<FetchOptions, 'name'> = {}): Promise<NewItems> {
    const fetched = await fetchFeed(feed.url, await this.state(feed.url), { ...options, name: feed.name });
    if (!fetched.ok) return fetched;
    if (fetched.notModified) return { ok: true, items: [], notModified: true };
    // Claim before remembering the ETag: a crash in between costs a refetch, never an item.
    const items = await this.claim(feed.url, fetched.items);
    await this.saveState(feed.url, fetched.state);
    return { ok: true, items, notModified: false };
  }

  /** Those of `items` no earlier call claimed, in their order; atomic against concurrent callers. */
  async claim(feedUrl: string, items: readonly FeedItem[]): Promise<FeedItem[]> {
    if (items.length === 0) return [];
    const won = (await this.#redis.eval(
      CLAIM,
      1,
      this.#key(feedUrl, 'seen'),
      Date.now(),
      this.#keepIds,
      ...items.map((i) => i.id),
    )) as string[];
    const claimed = new Set(won);
    return items.filter((i) => claimed.has(i.id));
  }

  async state(feedUrl: string): Promise<FeedState> {
    const stored = await this.#redis.hgetall(this.#key(feedUrl, 'http'));
    return { etag: stored.etag || null, lastModified: stored.lastModified || null };
  }

  async saveState(feedUrl: string, state: FeedState): Promise<void> {
    const key = this.#key(feedUrl, 'http');
    await this.#redis
      .multi()
      .del(key)
      .hset(key, { etag: state.etag ?? '', lastModified: state.lastModified ?? '' })
      .exec();
  }
}

// ---- patch series -------------------------------------------------------------------------------------

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

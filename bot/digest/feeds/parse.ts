/**
 * Atom, RSS and RDF read into FeedItems. Reading the formats is @rowanmanning/feed-parser's job (their
 * dates, authors, entities and relative links, tested against real-world feeds). It sits on
 * fast-xml-parser, whose validator refuses what is not XML and which defuses entity bombs: entities
 * inside entities stay unexpanded, and expanding past its length cap throws (feed-parser lifts only the
 * count cap; the feeds test holds both). Ours: ids for items without one, titles as plain text.
 */
import { createHash } from 'node:crypto';
import { parseFeed as readFeed } from '@rowanmanning/feed-parser';
import { XMLValidator } from 'fast-xml-parser';
import { errorText, type FeedItem, httpUrl } from './feed.ts';

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

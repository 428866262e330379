/**
 * A feed fetched with a conditional GET (ETag, Last-Modified), within a deadline, a size cap and a
 * bounded number of redirects. Nothing here throws for what a server sends: HTTP errors, timeouts, huge
 * bodies, redirect loops and malformed XML come back as a FeedFailure.
 */
import { errorText, type FeedFailure, type FeedItem, type FeedState, failure, httpUrl } from './feed.ts';
import { parseFeed } from './parse.ts';

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

function formatMb(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`
    : `${Math.round(bytes / 1024)} KB`;
}

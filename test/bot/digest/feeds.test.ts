/**
 * Feeds for the digest: fixture Atom and RSS files served by a real loopback HTTP server, remembered in a
 * private Redis; and patch-series grouping over invented list titles.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { type FeedItem, NO_STATE } from '../../../bot/digest/feeds/feed.ts';
import { fetchFeed } from '../../../bot/digest/feeds/fetch.ts';
import { parseFeed } from '../../../bot/digest/feeds/parse.ts';
import { groupPatchSeries, parsePatchSubject, type SeriesEntry } from '../../../bot/digest/feeds/series.ts';
import { FeedStore } from '../../../bot/digest/feeds/store.ts';
import { privateRedis } from '../../helpers/jobs.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'feeds');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const ATOM_V1 = fixture('list-v1.atom.xml');
const ATOM_V2 = fixture('list-v2.atom.xml');
const RSS = fixture('news.rss.xml');
const V1_IDS = parseIds(ATOM_V1);
const NEW_IN_V2 = 'urn:uuid:5c6f0d2e-0001-4c3e-9a77-000000000008';
const RSS_MODIFIED = 'Tue, 03 Mar 2026 10:05:00 GMT';

function parseIds(text: string): string[] {
  const parsed = parseFeed(text, 'https://lists.example.org/');
  assert.ok(parsed.ok);
  return parsed.items.map((item) => item.id);
}

type Mode = 'good' | 'error' | 'stall' | 'huge' | 'html' | 'loop';

/** The feeds' server: `/atom` (ETag), `/rss` (Last-Modified), `/moved`, `/barrier`, `/flaky/<n>`. */
class FeedServer {
  readonly server: Server;
  base = '';
  atom = ATOM_V1;
  readonly requests: { path: string; headers: IncomingMessage['headers']; status: number }[] = [];
  readonly modes = new Map<string, Mode>();
  hugeBytesSent = 0;
  #waiting: (() => void)[] = [];

  constructor() {
    this.server = createServer((req, res) => this.#handle(req, res));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  #handle(req: IncomingMessage, res: ServerResponse) {
    const path = req.url ?? '/';
    const send = (status: number, headers: Record<string, string>, body = '') => {
      this.requests.push({ path, headers: req.headers, status });
      res.writeHead(status, headers).end(body);
    };
    const xml = { 'content-type': 'application/atom+xml; charset=utf-8' };
    if (path === '/atom') {
      const etag = this.atom === ATOM_V1 ? '"list-v1"' : '"list-v2"';
      if (req.headers['if-none-match'] === etag) return send(304, { etag });
      return send(200, { ...xml, etag }, this.atom);
    }
    if (path === '/rss') {
      if (req.headers['if-modified-since'] === RSS_MODIFIED)
        return send(304, { 'last-modified': RSS_MODIFIED });
      return send(200, { 'content-type': 'application/rss+xml', 'last-modified': RSS_MODIFIED }, RSS);
    }
    if (path === '/moved') return send(301, { location: '/atom' });
    if (path === '/barrier') {
      // Answers only once two requests are in, so both callers really fetch the feed at the same time.
      this.#waiting.push(() => send(200, xml, ATOM_V1));
      if (this.#waiting.length === 2) for (const answer of this.#waiting.splice(0)) answer();
      return;
    }
    switch (this.modes.get(path) ?? 'good') {
      case 'good':
        return send(200, xml, ATOM_V1);
      case 'error':
        return send(500, { 'content-type': 'text/plain' }, 'database on fire');
      case 'html':
        return send(200, { 'content-type': 'text/html' }, fixture('error-page.html'));
      case 'loop':
        return send(302, { location: path });
      case 'stall':
        // Headers and the start of a body, then nothing: only the deadline ends this.
        this.requests.push({ path, headers: req.headers, status: 200 });
        res.writeHead(200, xml).write(ATOM_V1.slice(0, 200));
        return;
      case 'huge':
        this.requests.push({ path, headers: req.headers, status: 200 });
        res.writeHead(200, xml);
        this.#stream(res, 4 * 1024 * 1024);
        return;
    }
  }

  /** `total` bytes of a plausible feed, chunked (no Content-Length), stopping if the client goes away. */
  #stream(res: ServerResponse, total: number): void {
    const chunk = `<entry><title>padding</title><id>${'x'.repeat(16_000)}</id></entry>\n`;
    res.write('<feed xmlns="http://www.w3.org/2005/Atom">');
    const more = () => {
      while (this.hugeBytesSent < total && !res.destroyed) {
        this.hugeBytesSent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      if (!res.destroyed) res.end('</feed>');
    };
    more();
  }
}

const ids = (items: readonly FeedItem[]) => items.map((item) => item.id);

describe('feeds over HTTP and Redis', () => {
  let redisServer: Awaited<ReturnType<typeof privateRedis>>;
  let redis: Redis;
  const http = new FeedServer();
  const clients: Redis[] = [];
  let namespaces = 0;
  const namespace = () => `feedtest-${process.pid}-${++namespaces}`;
  const client = () => {
    const extra = new Redis(redisServer.url);
    clients.push(extra);
    return extra;
  };

  before(async () => {
    redisServer = await privateRedis();
    redis = new Redis(redisServer.url);
    await http.start();
  });

  after(async () => {
    for (const extra of clients) extra.disconnect();
    redis.disconnect();
    await redisServer.stop();
    await http.stop();
  });

  test('Atom: all items first, then a conditional GET and 304, then only the new item', async () => {
    http.atom = ATOM_V1;
    const ns = namespace();
    const store = new FeedStore(redis, ns);
    const feed = { url: `${http.base}/atom`, name: 'rust-for-linux list' };

    const first = await store.newItems(feed);
    assert.ok(first.ok);
    assert.equal(first.notModified, false);
    assert.deepEqual(ids(first.items), V1_IDS);
    assert.equal(V1_IDS.length, 8);

    const second = await store.newItems(feed);
    assert.deepEqual(second, { ok: true, items: [], notModified: true });
    const conditional = http.requests.at(-1);
    assert.equal(conditional?.headers['if-none-match'], '"list-v1"');
    assert.equal(conditional?.status, 304);

    http.atom = ATOM_V2;
    const third = await store.newItems(feed);
    assert.ok(third.ok);
    assert.deepEqual(ids(third.items), [NEW_IN_V2]);
    assert.equal(third.items[0]?.title, '[PATCH] rust: alloc: fix a typo in the KVec docs');

    // A restart: a new connection and store on the same Redis remember both the ETag and the items.
    const restarted = new FeedStore(client(), ns);
    assert.deepEqual(await restarted.newItems(feed), { ok: true, items: [], notModified: true });
  });

  test('a restart without a usable ETag refetches the whole feed and still repeats nothing', async () => {
    http.atom = ATOM_V2;
    const ns = namespace();
    const feed = { url: `${http.base}/atom`, name: 'list' };
    const first = await new FeedStore(redis, ns).newItems(feed);
    assert.ok(first.ok);
    assert.equal(first.items.length, 9);
    http.atom = ATOM_V1; // the server's ETag changed (a rebuilt archive): a full 200 again
    const again = await new FeedStore(client(), ns).newItems(feed);
    assert.deepEqual(again, { ok: true, items: [], notModified: false });
  });

  test('RSS: If-Modified-Since from the remembered Last-Modified gets a 304', async () => {
    const store = new FeedStore(redis, namespace());
    const feed = { url: `${http.base}/rss`, name: 'news' };
    const first = await store.newItems(feed);
    assert.ok(first.ok);
    assert.deepEqual(
      first.items.map((item) => item.title),
      ['Rust kernel meetup & workshop', 'Using Box<T> in drivers – a primer', 'Release notes: bindgen bump'],
    );
    assert.deepEqual(await store.state(feed.url), { etag: null, lastModified: RSS_MODIFIED });
    assert.deepEqual(await store.newItems(feed), { ok: true, items: [], notModified: true });
    assert.equal(http.requests.at(-1)?.headers['if-modified-since'], RSS_MODIFIED);
  });

  test('a redirect is followed and reported as the final URL', async () => {
    const fetched = await fetchFeed(`${http.base}/moved`, NO_STATE);
    assert.ok(fetched.ok && !fetched.notModified);
    assert.equal(fetched.finalUrl, `${http.base}/atom`);
    assert.equal(fetched.items.length, 8);
  });

  test('two concurrent callers split the items with no overlap', async () => {
    const ns = namespace();
    const feed = { url: `${http.base}/barrier`, name: 'list' };
    const [a, b] = await Promise.all([
      new FeedStore(client(), ns).newItems(feed),
      new FeedStore(client(), ns).newItems(feed),
    ]);
    assert.ok(a?.ok && b?.ok);
    assert.equal(a.notModified || b.notModified, false, 'both fetched the feed');
    const got = [...ids(a.items), ...ids(b.items)];
    assert.deepEqual(got.toSorted(), V1_IDS.toSorted(), 'every item exactly once');
  });

  test('overlapping concurrent claims: each id goes to exactly one caller', async () => {
    const ns = namespace();
    const all: FeedItem[] = Array.from({ length: 60 }, (_, n) => ({
      id: `item-${n}`,
      title: `item ${n}`,
      link: null,
      published: null,
      author: null,
    }));
    const claims = await Promise.all(
      Array.from({ length: 6 }, (_, n) =>
        new FeedStore(client(), ns).claim('https://x.example/feed', all.slice(n * 8, n * 8 + 20)),
      ),
    );
    const got = claims.flatMap(ids);
    assert.equal(new Set(got).size, got.length, 'no id claimed twice');
    assert.deepEqual(got.toSorted(), ids(all.slice(0, 60)).toSorted());
  });

  test('the remembered ids stay bounded and never evict the batch just claimed', async () => {
    const store = new FeedStore(redis, namespace(), { keepIds: 5 });
    const batch = (from: number, count: number): FeedItem[] =>
      Array.from({ length: count }, (_, n) => ({
        id: `id-${from + n}`,
        title: '',
        link: null,
        published: null,
        author: null,
      }));
    assert.equal((await store.claim('u', batch(0, 8))).length, 8);
    assert.equal(
      (await store.claim('u', batch(0, 8))).length,
      0,
      'a batch larger than keepIds stays remembered',
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal((await store.claim('u', batch(100, 2))).length, 2);
    // Now trimmed to 5: the two new ids and three of the old batch.
    assert.equal((await store.claim('u', batch(0, 8))).length, 5);
  });

  const failures: [Mode, string, RegExp][] = [
    ['error', 'http', /answered HTTP 500/],
    ['stall', 'timeout', /did not answer within 0\.3 s/],
    ['huge', 'too-large', /larger than the 256 KB I read/],
    ['html', 'malformed', /did not send valid XML/],
    ['loop', 'redirects', /redirected too often \(a redirect loop\)/],
  ];
  for (const [mode, reason, userMessage] of failures) {
    test(`failure (${mode}) is clear and loses nothing`, async () => {
      const path = `/flaky/${mode}`;
      http.modes.set(path, mode);
      const store = new FeedStore(redis, namespace());
      const feed = { url: `${http.base}${path}`, name: 'rust-for-linux list' };
      const options = { timeoutMs: 300, maxBytes: 256 * 1024 };
      const started = Date.now();
      const failed = await store.newItems(feed, options);
      assert.ok(!failed.ok);
      assert.equal(failed.reason, reason);
      assert.match(failed.userMessage, /^(The feed|I could not reach the feed) “rust-for-linux list”/);
      assert.match(failed.userMessage, userMessage);
      assert.ok(failed.logMessage.includes(feed.url), failed.logMessage);
      assert.ok(Date.now() - started < 3000, 'no failure waits past the deadline');
      if (mode === 'huge') assert.ok(http.hugeBytesSent < 4 * 1024 * 1024, 'the download stopped early');
      assert.deepEqual(await store.state(feed.url), NO_STATE);

      http.modes.set(path, 'good');
      const next = await store.newItems(feed, options);
      assert.ok(next.ok);
      assert.deepEqual(ids(next.items), V1_IDS);
    });
  }

  test('a refused connection and a non-http URL are failures too', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await fetchFeed(`http://127.0.0.1:${port}/feed`, NO_STATE, { name: 'gone' });
    assert.ok(!refused.ok);
    assert.equal(refused.reason, 'network');
    assert.match(refused.logMessage, /ECONNREFUSED/);
    const file = await fetchFeed('file:///etc/passwd', NO_STATE);
    assert.ok(!file.ok);
    assert.equal(file.reason, 'bad-url');
  });
});

describe('parseFeed', () => {
  test('Atom fields: ids, absolute links, dates, authors, text and HTML titles', () => {
    const parsed = parseFeed(ATOM_V1, 'https://lists.example.org/rust-for-linux/new.atom');
    assert.ok(parsed.ok);
    assert.equal(parsed.kind, 'atom');
    assert.equal(parsed.title, 'rust-for-linux (example archive)');
    const cover = parsed.items.find((item) => item.title.includes('0/3'));
    assert.deepEqual(cover, {
      id: 'urn:uuid:5c6f0d2e-0001-4c3e-9a77-000000000001',
      title: '[PATCH v3 0/3] rust: sync: ergonomic lock guards',
      link: 'https://lists.example.org/rust-for-linux/alice-v3-0@example.com/',
      published: '2026-03-04T12:00:00.000Z',
      author: 'Alice Developer',
    });
    // A text title keeps its generics; an HTML one loses its tags and one level of escaping.
    assert.ok(
      parsed.items.some((item) => item.title === '[PATCH v3 2/3] rust: sync: add SpinGuard<T> accessors'),
    );
    const question = parsed.items.at(-1);
    assert.equal(question?.title, 'Question: CONFIG_RUST greyed out & rustavailable fails');
    assert.equal(question?.link, 'https://lists.example.org/rust-for-linux/dana-question@example.org/');
    assert.equal(question?.published, '2026-03-03T07:15:00.000Z');
  });

  test('RSS fields: guid or link as id, CDATA, entities, dc:creator and author', () => {
    const parsed = parseFeed(RSS, 'https://news.example.org/feed.rss');
    assert.ok(parsed.ok);
    assert.equal(parsed.kind, 'rss');
    assert.equal(parsed.title, 'Rust in the kernel – example news');
    assert.deepEqual(parsed.items, [
      {
        id: 'news-2026-0042',
        title: 'Rust kernel meetup & workshop',
        link: 'https://news.example.org/2026/03/meetup',
        published: '2026-03-03T10:00:00.000Z',
        author: 'Erin Editor',
      },
      {
        id: 'https://news.example.org/2026/02/box-primer',
        title: 'Using Box<T> in drivers – a primer',
        link: 'https://news.example.org/2026/02/box-primer',
        published: '2026-02-27T16:30:00.000Z',
        author: 'Frank Writer',
      },
      {
        id: 'https://news.example.org/2026/02/bindgen',
        title: 'Release notes: bindgen bump',
        link: 'https://news.example.org/2026/02/bindgen',
        published: null,
        author: null,
      },
    ]);
  });

  test('XHTML titles, mixed CDATA, unsafe links and duplicate ids', () => {
    const text = `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
      <entry><id>a</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Use <code>pin_init!</code> &amp; friends</div></title>
        <link href="javascript:alert(1)"/></entry>
      <entry><id>b</id><title>pre <![CDATA[<raw> & ]]>post</title></entry>
      <entry><id>a</id><title>again</title></entry></feed>`;
    const parsed = parseFeed(text, 'https://example.org/');
    assert.ok(parsed.ok);
    assert.deepEqual(
      parsed.items.map((item) => [item.id, item.title, item.link]),
      [
        ['a', 'Use pin_init! & friends', null],
        ['b', 'pre <raw> & post', null],
      ],
    );
  });

  test('malformed XML and XML that is no feed are failures, not exceptions', () => {
    const html = parseFeed(fixture('error-page.html'), 'https://example.org/');
    assert.equal(html.ok, false);
    assert.equal(!html.ok && html.reason, 'malformed');
    for (const text of ['', 'Service unavailable', '<feed><entry></feed>', '<a>&bogus</a>']) {
      const parsed = parseFeed(text, 'https://example.org/');
      assert.equal(!parsed.ok && parsed.reason, 'malformed', text);
    }
    const xhtml = parseFeed(
      '<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
      'https://example.org/',
    );
    assert.deepEqual(xhtml, {
      ok: false,
      reason: 'not-a-feed',
      detail: 'root element <html> is neither Atom <feed> nor RSS <rss>',
    });
  });

  test('entity bombs are refused or left unexpanded, quickly and without a huge title', () => {
    const rss = (doctype: string, title: string) =>
      `<?xml version="1.0"?><!DOCTYPE rss [${doctype}]><rss version="2.0"><channel><title>t</title>` +
      `<item><guid>1</guid><title>${title}</title></item></channel></rss>`;
    const wide = rss(`<!ENTITY a "${'x'.repeat(5000)}">`, '&a;'.repeat(20_000));
    let nested = '<!ENTITY l0 "lol">';
    for (let level = 1; level <= 9; level++)
      nested += `<!ENTITY l${level} "${`&l${level - 1};`.repeat(10)}">`;
    const laughs = rss(nested, '&l9;');
    const started = Date.now();
    const refused = parseFeed(wide, 'https://example.org/');
    assert.equal(!refused.ok && refused.reason, 'malformed');
    const parsed = parseFeed(laughs, 'https://example.org/');
    assert.ok(!parsed.ok || parsed.items.every((item) => item.title.length < 100), 'no expanded title');
    assert.ok(Date.now() - started < 1000);
  });
});

describe('patch series', () => {
  test('parsePatchSubject reads the bracket forms lists use', () => {
    const cases: [string, ReturnType<typeof parsePatchSubject>][] = [
      [
        '[PATCH v3 2/7] rust: add foo',
        { reply: false, tag: 'PATCH', version: 3, part: 2, total: 7, subject: 'rust: add foo' },
      ],
      [
        '[PATCH 0/3] rust: a cover',
        { reply: false, tag: 'PATCH', version: 1, part: 0, total: 3, subject: 'rust: a cover' },
      ],
      [
        'Re: [PATCH v2 1/4] rust: bar',
        { reply: true, tag: 'PATCH', version: 2, part: 1, total: 4, subject: 'rust: bar' },
      ],
      [
        'RE: Re: [RFC PATCH v2 00/12] rust: big thing',
        { reply: true, tag: 'RFC PATCH', version: 2, part: 0, total: 12, subject: 'rust: big thing' },
      ],
      [
        '[PATCH net-next v4 3/5] net: phy: baz',
        { reply: false, tag: 'PATCH net-next', version: 4, part: 3, total: 5, subject: 'net: phy: baz' },
      ],
      [
        '[RFC][PATCH V2] rust: lone',
        { reply: false, tag: 'RFC PATCH', version: 2, part: null, total: null, subject: 'rust: lone' },
      ],
    ];
    for (const [title, expected] of cases) assert.deepEqual(parsePatchSubject(title), expected, title);
    for (const title of [
      'Rust for Linux call notes',
      '[ANNOUNCE] rust tree moved',
      'Re: patch review etiquette',
    ]) {
      assert.equal(parsePatchSubject(title), null, title);
    }
  });

  const at = (minute: number) => new Date(Date.UTC(2026, 2, 2, 10, minute)).toISOString();
  let n = 0;
  const mail = (title: string, author: string, minute: number): FeedItem => ({
    id: `m${++n}`,
    title,
    link: `https://lists.example.org/m${n}/`,
    published: at(minute),
    author,
  });

  test('a series with cover letter, patches and replies becomes one entry; plain items stay single', () => {
    const items = [
      mail('Re: [PATCH v3 2/3] rust: sync: add SpinGuard<T> accessors', 'Rita', 50),
      mail('Re: [PATCH v3 0/3] rust: sync: ergonomic lock guards', 'Sam', 40),
      mail('[PATCH v3 3/3] samples: rust: show the new guards', 'Alice', 3),
      mail('Weekly meeting notes', 'Dana', 2),
      mail('[PATCH v3 2/3] rust: sync: add SpinGuard<T> accessors', 'Alice', 2),
      mail('[PATCH v3 1/3] rust: sync: move the guard types', 'Alice', 1),
      mail('[PATCH v3 0/3] rust: sync: ergonomic lock guards', 'Alice', 0),
    ];
    const entries = groupPatchSeries(items);
    assert.equal(entries.length, 2);
    const [series, single] = entries as [SeriesEntry, { kind: 'item'; item: FeedItem }];
    assert.equal(single.kind, 'item');
    assert.equal(single.item.title, 'Weekly meeting notes');
    assert.equal(series.kind, 'series');
    assert.equal(series.title, 'rust: sync: ergonomic lock guards');
    assert.equal(series.version, 3);
    assert.equal(series.parts, 3);
    assert.equal(series.tag, 'PATCH');
    assert.equal(series.author, 'Alice');
    assert.equal(series.replies, 2);
    assert.equal(series.link, items[6]?.link, 'the cover letter');
    assert.deepEqual(ids(series.items), ['m7', 'm6', 'm5', 'm3', 'm2', 'm1']);
  });

  test('versions, authors, tags and lone patches keep series apart', () => {
    const first = mail('[PATCH v2 1/2] rust: kernel: add Foo', 'Alice', 0);
    const entries = groupPatchSeries([
      first,
      mail('[PATCH v2 2/2] rust: kernel: use Foo', 'Alice', 1),
      mail('[PATCH v3 1/2] rust: kernel: add Foo', 'Alice', 30),
      mail('[PATCH v3 2/2] rust: kernel: use Foo', 'Alice', 31),
      mail('[PATCH 1/2] drm: rust: add a helper', 'Bob', 5),
      mail('[PATCH 2/2] drm: rust: use the helper', 'Bob', 6),
      mail('[RFC PATCH net-next v4 3/5] net: phy: rust: part three', 'Carol', 7),
      mail('[RFC PATCH net-next v4 1/5] net: phy: rust: part one', 'Carol', 7),
      mail('[PATCH] rust: fix a typo', 'Erin', 8),
      mail('[PATCH] rust: fix another typo', 'Erin', 9),
      mail('Re: [PATCH] rust: fix a typo', 'Rita', 20),
    ]) as SeriesEntry[];
    assert.deepEqual(
      entries.map((e) => [e.title, e.tag, e.version, e.parts, e.items.length, e.replies]),
      [
        ['rust: kernel: add Foo', 'PATCH', 2, 2, 2, 0],
        ['rust: kernel: add Foo', 'PATCH', 3, 2, 2, 0],
        ['drm: rust: add a helper', 'PATCH', 1, 2, 2, 0],
        ['net: phy: rust: part one', 'RFC PATCH net-next', 4, 5, 2, 0],
        ['rust: fix a typo', 'PATCH', 1, 1, 2, 1],
        ['rust: fix another typo', 'PATCH', 1, 1, 1, 0],
      ],
    );
    assert.equal(entries[0]?.link, first.link, 'no cover letter: the first patch');
  });

  test('the same author, version and size a day apart, or a repeated part, is another series', () => {
    const entries = groupPatchSeries([
      mail('[PATCH 1/2] rust: first idea', 'Alice', 0),
      mail('[PATCH 2/2] rust: first idea, part two', 'Alice', 1),
      mail('[PATCH 1/2] rust: second idea', 'Alice', 2),
      {
        ...mail('[PATCH 2/2] rust: third idea, part two', 'Alice', 0),
        published: '2026-03-05T10:00:00.000Z',
      },
    ]) as SeriesEntry[];
    assert.deepEqual(
      entries.map((e) => [e.title, e.items.length]),
      [
        ['rust: first idea', 2],
        ['rust: second idea', 1],
        ['rust: third idea, part two', 1],
      ],
    );
  });

  test('replies to a patch outside the window form their own entry, linked to the first reply', () => {
    const entries = groupPatchSeries([
      mail('Re: [PATCH v5 4/9] rust: block: add a request queue', 'Rita', 3),
      mail('Re: [PATCH v5 4/9] rust: block: add a request queue', 'Sam', 1),
      mail('Re: [PATCH v5 0/9] rust: block: null_blk in Rust', 'Tom', 2),
    ]) as SeriesEntry[];
    assert.deepEqual(
      entries.map((e) => [e.title, e.version, e.parts, e.replies, e.link]),
      [
        ['rust: block: add a request queue', 5, 9, 2, `https://lists.example.org/m${n - 1}/`],
        ['rust: block: null_blk in Rust', 5, 9, 1, `https://lists.example.org/m${n}/`],
      ],
    );
  });
});

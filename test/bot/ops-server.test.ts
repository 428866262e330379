/**
 * The operations endpoints over real HTTP on loopback: liveness, readiness against a real Redis (and a
 * check that hangs), and the metrics a real knowledge service and a real job queue feed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { startOpsServer } from '../../bot/ops-server.ts';
import { registerQueueDepth } from '../../config/metrics.ts';
import { fixtureKnowledge } from '../helpers/chat-fixture.ts';
import {
  buildRequest,
  GOOD_MODULE,
  log,
  openQueue,
  origin,
  privateRedis,
  Recorder,
  testConfig,
  uniqueLocation,
} from '../helpers/jobs.ts';
import { shutdownRedis } from '../helpers/redis.ts';

let redis: Awaited<ReturnType<typeof privateRedis>>;
let client: Redis;
const closing: (() => Promise<unknown>)[] = [];
const queues: { close(): Promise<void> }[] = [];

before(async () => {
  redis = await privateRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  client.on('error', () => {}); // the server going away is part of the test
});
after(async () => {
  for (const close of closing.reverse()) await close();
  for (const queue of queues) await queue.close();
  client.disconnect();
  await redis.stop();
});

const redisCheck = async () => (await client.ping()) === 'PONG';
const ok = async () => true;

async function serve(checks: Record<string, () => Promise<boolean>>) {
  const server = await startOpsServer({ port: 0, checks, log });
  closing.push(() => server.close());
  assert.ok(server.port > 0, 'a free port was picked and reported');
  return (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);
}

test('/healthz answers 200 ok', async () => {
  const get = await serve({});
  const response = await get('/healthz');
  assert.equal(response.status, 200);
  assert.equal((await response.text()).trim(), 'ok');
});

test('/readyz is 200 when every check passes', async () => {
  const get = await serve({ redis: redisCheck, matrix: ok, discord: ok });
  const response = await get('/readyz');
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  assert.deepEqual(await response.json(), {
    ready: true,
    checks: { redis: 'ok', matrix: 'ok', discord: 'ok' },
  });
});

test('/readyz is 503 within about 3 s when a check hangs, and names it', async () => {
  const get = await serve({ matrix: ok, discord: () => new Promise<boolean>(() => {}) });
  const started = Date.now();
  const response = await get('/readyz');
  const elapsed = Date.now() - started;
  assert.equal(response.status, 503);
  assert.ok(elapsed < 3000, `answered after ${elapsed} ms`);
  const body = (await response.json()) as { ready: boolean; checks: Record<string, string> };
  assert.equal(body.ready, false);
  assert.equal(body.checks.matrix, 'ok');
  assert.notEqual(body.checks.discord, 'ok');
});

test('/metrics shows questions asked and the depth of a real queue', async () => {
  const knowledge = await fixtureKnowledge('ops');
  const answer = await knowledge.ask('which rustc does 6.1 need?');
  assert.equal(answer.kind, 'answer');

  const config = testConfig();
  const queue = await openQueue(uniqueLocation(redis.url), config);
  queues.push(queue);
  // No worker: the job stays waiting.
  const submitted = await queue.submit(buildRequest(GOOD_MODULE), origin(), new Recorder());
  assert.ok(submitted.ok && submitted.status === 'queued', JSON.stringify(submitted));
  const unregister = registerQueueDepth(() => queue.depth());
  closing.push(async () => unregister());

  const get = await serve({});
  const response = await get('/metrics');
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  assert.match(text, /^rfl_questions_total\{outcome="answered"\} 1$/m);
  assert.match(text, /^rfl_retrieval_duration_seconds_count 1$/m);
  assert.match(text, /^rfl_queue_depth\{state="waiting"\} 1$/m);
  assert.match(text, /^rfl_queue_depth\{state="active"\} 0$/m);
  assert.match(text, /^process_cpu_seconds_total /m, 'default process metrics');
});

test('an unknown path is 404', async () => {
  const get = await serve({});
  assert.equal((await get('/nope')).status, 404);
  assert.equal((await get('/')).status, 404);
});

test('/readyz is 503 naming redis once Redis is shut down', async () => {
  const get = await serve({ redis: redisCheck, matrix: ok, discord: ok });
  assert.equal((await get('/readyz')).status, 200);
  // The queue's connections go first, so they do not reconnect forever.
  for (const queue of queues.splice(0)) await queue.close();
  await shutdownRedis(redis.url);
  const response = await get('/readyz');
  assert.equal(response.status, 503);
  const body = (await response.json()) as { ready: boolean; checks: Record<string, string> };
  assert.equal(body.ready, false);
  assert.notEqual(body.checks.redis, 'ok');
  assert.equal(body.checks.matrix, 'ok');
  assert.equal(body.checks.discord, 'ok');
});

/**
 * A job's progress message in the chat: stages are shown at most once per PROGRESS_EDIT_INTERVAL_MS
 * (the latest one winning), a job that finishes before its first edit is due gets only "done", and
 * neither "done" nor the result waits for the pacing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import type { MessageRef } from '../../bot/chat/capabilities.ts';
import type { RichMessage } from '../../bot/chat/rich-message.ts';
import type { JobQueueClient, Replies } from '../../bot/job-follow/chat-jobs.ts';
import { PROGRESS_EDIT_INTERVAL_MS, startJob } from '../../bot/job-follow/follow.ts';
import { loadConfig } from '../../config/load.ts';
import type { JobProgress, JobResult } from '../../jobs/contracts.ts';
import type { JobWatcher } from '../../jobs/queue/queue.ts';

const loaded = loadConfig({ env: {} });
if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
const limits = loaded.config.jobs;

/** What the conversation saw, in order, with the time since the job was started. */
type Seen = { at: number; what: 'send' | 'edit'; text: string };

function conversation() {
  const seen: Seen[] = [];
  const started = Date.now();
  const work: Promise<unknown>[] = [];
  const replies: Replies = {
    async send(content: RichMessage): Promise<MessageRef> {
      seen.push({ at: Date.now() - started, what: 'send', text: content.lead });
      return { conversation: { roomId: 'room' }, messageId: `m${seen.length}` };
    },
    async edit(_ref: MessageRef, content: RichMessage) {
      seen.push({ at: Date.now() - started, what: 'edit', text: content.lead });
    },
    track: (promise) => void work.push(promise),
  };
  return { seen, replies, settled: () => Promise.all(work) };
}

/** A queue that queues the job and hands its watcher to the test, which plays the worker. */
function queueFor(watcherReady: (watcher: JobWatcher) => void): JobQueueClient {
  return {
    async submit(_request, _origin, watcher) {
      watcherReady(watcher);
      return { ok: true, status: 'queued', jobId: 'abcde', position: 1 };
    },
    cancel: async () => '',
    result: async () => null,
    origin: async () => null,
    follow: async () => 'following',
  };
}

const result = (durationMs: number): JobResult => ({
  jobId: 'abcde',
  outcome: 'success',
  environment: null,
  summary: '✅ built hello.ko',
  body: '',
  warnings: 0,
  errors: 0,
  fullLog: '',
  durationMs,
});

async function run(play: (watcher: JobWatcher) => Promise<void>): Promise<Seen[]> {
  const chat = conversation();
  let watcher: JobWatcher | undefined;
  await startJob(
    {
      message: { id: 'q1', conversation: { roomId: 'room' } },
      jobs: { queue: queueFor((w) => (watcher = w)), limits },
      replies: chat.replies,
      origin: { userId: 'u', conversation: 'room', room: 'room', platform: 'terminal', isDirect: true },
      prefix: '!',
      log: pino({ level: 'silent' }),
    },
    { kind: 'build', source: 'fn x() {}', fileName: null, boot: false, kernel: null },
  );
  await play(watcher!);
  await chat.settled();
  return chat.seen;
}

const stage = (detail: string): JobProgress => ({ stage: 'building', detail });

test('a job that finishes before the first edit is due: no stage edits, one "done", then the result', async () => {
  const seen = await run(async (watcher) => {
    watcher.progress(stage('preparing'));
    watcher.progress(stage('building hello.ko'));
    await sleep(PROGRESS_EDIT_INTERVAL_MS / 3);
    watcher.result(result(300));
  });
  assert.deepEqual(
    seen.map(({ what, text }) => [what, text]),
    [
      ['send', '[job abcde] queued (position 1) · !cancel abcde stops it'],
      ['edit', '[job abcde] done in 0.3 s'],
      ['send', '✅ built hello.ko'],
    ],
  );
});

test('a longer job: stages at most once per interval, the newest one shown; "done" and the result at once', async () => {
  const seen = await run(async (watcher) => {
    for (const detail of ['one', 'two', 'three']) watcher.progress(stage(detail));
    await sleep(PROGRESS_EDIT_INTERVAL_MS * 1.3);
    watcher.progress(stage('four'));
    watcher.progress(stage('five'));
    await sleep(PROGRESS_EDIT_INTERVAL_MS * 0.2);
    watcher.result(result(2500));
  });
  const edits = seen.filter((entry) => entry.what === 'edit');
  assert.deepEqual(
    edits.map((entry) => entry.text),
    ['[job abcde] three', '[job abcde] done in 2.5 s'],
    'the stages between edits are skipped for the newest one, and "five" gives way to "done"',
  );
  assert.ok(edits[0]!.at >= PROGRESS_EDIT_INTERVAL_MS - 20, 'the first stage edit waited its interval');
  const resultAt = seen.find((entry) => entry.text.startsWith('✅'))!.at;
  assert.ok(resultAt - edits[1]!.at < PROGRESS_EDIT_INTERVAL_MS / 2, 'the result followed "done" at once');
  assert.ok(edits[1]!.at < PROGRESS_EDIT_INTERVAL_MS * 1.5 + 200, '"done" did not wait for the pacing');
});

/**
 * The terminal enters through the dispatcher like Matrix and Discord: what a dispatcher decides (rate
 * limits and their note, replies kept for edits and deletes, answers kept for feedback) happens at the
 * terminal too, and a job's result shows there what it shows on every platform: not a log-flooding
 * module's whole console, which `!log` has.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { textMessage } from '../../bot/chat/rich-message.ts';
import { type Command, ok } from '../../bot/commands/command.ts';
import { MemoryChatLedger } from '../../bot/dispatch/chat-ledger.ts';
import { createRouter } from '../../bot/dispatch/router.ts';
import type { JobQueueClient } from '../../bot/job-follow/chat-jobs.ts';
import { startJob } from '../../bot/job-follow/follow.ts';
import type { JobResult } from '../../jobs/contracts.ts';
import type { KnowledgeService } from '../../knowledge/answer-types.ts';
import { testConfig } from '../helpers/jobs.ts';
import { pipedChat } from './terminal-dispatcher.ts';

const log = pino({ level: 'silent' });
const knowledge: KnowledgeService = {
  ask: async () => {
    throw new Error('not used');
  },
  faq: () => [],
  kernelVersions: () => [],
};
const echo: Command = {
  name: 'echo',
  usage: '<words>',
  summary: 'repeat',
  run: async ({ args }) => ok(textMessage(`echo: ${args}`)),
};

/** A module that printed 4,693 lines at boot: the console as the job's result body. */
const FLOOD_LINES = 4693;
const flooded: JobResult = {
  jobId: 'flood',
  outcome: 'success',
  environment: null,
  summary: '✅ built and booted flood.ko',
  body: Array.from(
    { length: FLOOD_LINES },
    (_, i) => `[    1.${String(i).padStart(6, '0')}] flood: line ${i + 1}`,
  ).join('\n'),
  warnings: 0,
  errors: 0,
  fullLog: 'the whole build log and console\n',
  durationMs: 4200,
};

/** `!run`: a job whose queue answers at once, then delivers the flooded result. */
const queue: JobQueueClient = {
  async submit(_request, _origin, watcher) {
    setTimeout(() => watcher.result(flooded), 10);
    return { ok: true, status: 'queued', jobId: flooded.jobId, position: 1 };
  },
  cancel: async () => '',
  result: async () => flooded,
  origin: async () => null,
  follow: async () => 'following',
};
const run: Command = {
  name: 'run',
  usage: '',
  summary: 'a job',
  run: (context) => startJob(context, { kind: 'sample', name: 'flood', boot: true, kernel: null }),
};

function pipe(lines: string, options: { perMinute?: number; ledger?: MemoryChatLedger } = {}) {
  const router = createRouter({
    knowledge,
    chat: { commandPrefix: '!', botName: 'rfl-onboard' },
    log,
    commands: [echo, run],
    jobs: { queue, limits: testConfig().jobs },
  });
  return pipedChat(router, lines, log, options);
}

test('a rate limit at the terminal behaves as on other platforms: one note, then silence', async () => {
  // main.ts gives the operator no limit; a dispatcher that has one applies it here as in a room.
  const printed = await pipe('!echo 1\n!echo 2\n!echo 3\n!echo 4\n', { perMinute: 2 });
  const replies = printed.trimEnd().split('\n\n');
  assert.equal(replies.length, 3, printed);
  assert.deepEqual(replies.slice(0, 2), ['echo: 1', 'echo: 2']);
  assert.match(replies[2]!, /faster than I can answer well \(2 a minute\)/);
});

test('the operator, without a limit, gets every answer of a long piped script', async () => {
  const lines = Array.from({ length: 120 }, (_, i) => `!echo ${i}`);
  const printed = await pipe(`${lines.join('\n')}\n`);
  assert.deepEqual(
    printed.trimEnd().split('\n\n'),
    lines.map((_, i) => `echo: ${i}`),
  );
  assert.doesNotMatch(printed, /faster than I can answer/);
});

test('the terminal’s replies are kept in the ledger like every platform’s: for edits, deletes and feedback', async () => {
  const ledger = new MemoryChatLedger();
  await pipe('!echo kept\n', { ledger });
  const replies = await ledger.replies('terminal:terminal-1');
  assert.equal(replies?.refs.length, 1);
  const answer = await ledger.answer(`terminal:${replies!.refs[0]!.messageId}`);
  assert.equal(answer?.question, '!echo kept');
});

test('a log-flooding module’s result is trimmed at the terminal as elsewhere; !log has the rest', async () => {
  const printed = await pipe('!run\n');
  const lines = printed.split('\n');
  assert.ok(lines.length < 60, `${lines.length} lines printed`);
  assert.ok(printed.length < 8000, `${printed.length} characters printed`);
  assert.match(printed, /flood: line 1\n/, 'the first lines');
  assert.match(printed, new RegExp(`flood: line ${FLOOD_LINES}\\n`), 'and the last ones');
  assert.match(printed, /\[… 4,653 more lines not shown\]/);
  assert.match(printed, /!log flood shows the full log\./);
});

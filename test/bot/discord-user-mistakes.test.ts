/**
 * A user's mistakes on Discord (a typo in a command's options, a file of the wrong kind or size) are
 * answered, and logged at info: nothing at warn or above, where an operator's alerting would page.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { JobQueueClient } from '../../bot/job-follow/chat-jobs.ts';
import { createLogger } from '../../config/logger.ts';
import { configSchema } from '../../config/schema.ts';
import { type BotOnFake, discordKnowledge, startBotOnFake } from '../helpers/fake-discord/bot.ts';
import type { AttachmentObject } from '../helpers/fake-discord/objects.ts';

/** pino's level numbers: 30 info, 40 warn. */
const WARN = 40;
const logged: { level: number; msg: string }[] = [];
const log = createLogger(
  { logLevel: 'debug', logFormat: 'json' },
  { destination: { write: (line: string) => void logged.push(JSON.parse(line)) } },
);
/** None of these mistakes may start a job. */
const noJobs = new Proxy({} as JobQueueClient, {
  get: () => () => Promise.reject(new Error('no job expected')),
});
const limits = { ...configSchema.parse({}).jobs, maxSourceKb: 4 };
let env: BotOnFake;

before(async () => {
  env = await startBotOnFake(await discordKnowledge(), {
    router: { log, jobs: { queue: noJobs, limits } },
    dispatcher: { log },
    bot: { log },
  });
});
after(() => env.stop());

async function reply(text: string, attachments: AttachmentObject[] = []): Promise<string> {
  const start = env.fake.requests.length;
  const question = env.fake.say(env.fake.channel.id, env.fake.user('alice'), text, attachments);
  const answer = await env.fake.waitForRequest('POST', new RegExp(`^/channels/${question.id}/messages$`), {
    after: start,
  });
  return String(answer.body?.content);
}

test('typos and wrong files are answered, and logged below warn', async () => {
  const upload = (name: string, data: string | Uint8Array) =>
    env.fake.upload(env.fake.channel.id, name, typeof data === 'string' ? Buffer.from(data) : data);
  assert.match(await reply('!build --frobnicate'), /I don’t know the option --frobnicate/);
  assert.match(await reply('!check-config --kernel six'), /--kernel takes a kernel series/);
  assert.match(await reply('!build', [upload('notes.txt', 'hello')]), /I can only take a Rust source/);
  assert.match(await reply('!build', [upload('big.rs', 'x'.repeat(5000))]), /larger than 4 KB/);
  assert.match(await reply('!build', [upload('evil.rs', new Uint8Array([0x7f, 0x45, 0, 1, 2]))]), /binary/);

  const loud = logged.filter((line) => line.level >= WARN).map((line) => line.msg);
  assert.deepEqual(loud, [], 'nothing an operator’s alerting would page on');
  const refusals = logged.filter((line) => line.level === 30 && /^refused/.test(line.msg));
  assert.equal(refusals.length, 5, 'each mistake is still in the log, at info');
});

/**
 * The job commands as a chat user meets them: through the router with a real queue (and, where a result
 * is awaited, a real worker and build), and the README's terminal chat piped end to end.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { AttachmentFetcher, MessageRef } from '../../bot/chat/capabilities.ts';
import type { AttachmentInfo, IncomingMessage } from '../../bot/chat/message.ts';
import { renderPlainText } from '../../bot/chat/render-text.ts';
import type { RichMessage } from '../../bot/chat/rich-message.ts';
import { type ChatSurface, openReplyChannel } from '../../bot/dispatch/reply-channel.ts';
import { createRouter } from '../../bot/dispatch/router.ts';
import type { JobQueue } from '../../jobs/queue/queue.ts';
import type { Answer, KnowledgeService } from '../../knowledge/answer-types.ts';
import {
  BAD_MODULE,
  GOOD_MODULE,
  openQueue,
  privateRedis,
  startWorker,
  testConfig,
  uniqueLocation,
} from '../helpers/jobs.ts';
import { REPO } from '../helpers/paths.ts';
import { preparedTree } from '../helpers/prepared-tree.ts';

const noKnowledge: KnowledgeService = {
  ask: async (question) =>
    ({
      kind: 'answer',
      lead: `asked: ${question}`,
      details: [],
      citations: [],
      kernelVersion: null,
      confidence: 1,
      passages: [],
      via: 'rule',
    }) satisfies Answer,
  faq: () => [],
  kernelVersions: () => ['6.1.192'],
};

let redis: Awaited<ReturnType<typeof privateRedis>>;
let queue: JobQueue;
const config = testConfig({ perUserConcurrent: 10 });
const stops: (() => Promise<void>)[] = [];

before(async () => {
  await preparedTree();
  redis = await privateRedis();
  const location = uniqueLocation(redis.url);
  queue = await openQueue(location, config);
  const worker = await startWorker(location, config);
  stops.push(
    () => worker.stop(0),
    () => queue.close(),
  );
});
after(async () => {
  for (const stop of stops) await stop();
  await redis.stop();
});

/** A chat platform reduced to what commands use: messages sent and edited in order, attachments served. */
class RecordingSurface implements ChatSurface {
  readonly platform = 'matrix' as const;
  readonly messages: { id: string; versions: string[] }[] = [];
  readonly work: Promise<unknown>[] = [];
  readonly files = new Map<string, Uint8Array>();

  readonly sender = {
    send: async (to: IncomingMessage['conversation'], content: RichMessage): Promise<MessageRef> => {
      const id = `sent-${this.messages.length + 1}`;
      this.messages.push({ id, versions: [renderPlainText(content)] });
      return { conversation: to, messageId: id };
    },
    edit: async (ref: MessageRef, content: RichMessage) => {
      this.messages.find((m) => m.id === ref.messageId)?.versions.push(renderPlainText(content));
    },
  };

  readonly attachments: AttachmentFetcher = {
    fetch: async (attachment, { maxBytes }) => {
      const bytes = this.files.get(attachment.id) ?? new Uint8Array();
      if (bytes.length > maxBytes) {
        return {
          ok: false,
          failure: { userText: 'That file is too large for me.', logText: 'attachment over the cap' },
        };
      }
      return { ok: true, value: bytes };
    },
  };

  track(work: Promise<unknown>): void {
    this.work.push(work);
  }

  async settled(): Promise<void> {
    await Promise.all(this.work);
  }
}

function chat(jobs: boolean = true) {
  const surface = new RecordingSurface();
  const router = createRouter({
    knowledge: noKnowledge,
    chat: { commandPrefix: '!', botName: 'rfl-onboard' },
    log: pino({ level: 'silent' }),
    jobs: jobs ? { queue, limits: config.jobs } : null,
  });
  let n = 0;
  const say = async (text: string, attachments: AttachmentInfo[] = [], user = 'u1') => {
    const incoming: IncomingMessage = {
      id: `m${++n}`,
      conversation: { roomId: 'room' },
      author: { id: user, name: user },
      text,
      isDirect: true,
      mentionsBot: false,
      attachments,
    };
    const reply = await router.handle(
      incoming,
      openReplyChannel(surface, { conversation: incoming.conversation, replyTo: incoming.id }).channel,
    );
    return reply === null ? null : renderPlainText(reply);
  };
  return { surface, say };
}

const fenced = (code: string, options = '') => `!build${options}\n\`\`\`rust\n${code}\n\`\`\``;
const jobIdOf = (text: string) => /\[job ([a-z2-9]{5})\]/.exec(text)?.[1] ?? '';

describe('!build', () => {
  test('without code: the minimal module for that kernel and how to send it', async () => {
    const reply = (await chat().say('!build --kernel 6.1')) ?? '';
    assert.match(reply, /^Here is a minimal Rust module for Linux 6\.1/);
    assert.match(reply, /```rust\n[\s\S]*module! \{[\s\S]*```/);
    assert.match(reply, /fenced block \(or attach it as a \.rs file\)/);
  });

  test('a bad module: one progress message edited to done, then ❌ with the error block, and !log', async () => {
    const { say, surface } = chat();
    assert.equal(await say(fenced(BAD_MODULE)), null, 'the command replies through the progress message');
    await surface.settled();
    const [progress, result] = surface.messages;
    assert.ok(progress && result, JSON.stringify(surface.messages));
    const jobId = jobIdOf(progress.versions[0]!);
    assert.match(progress.versions[0]!, /^\[job \w{5}\] queued \(position 1\) · !cancel \w{5} stops it$/);
    assert.match(progress.versions.at(-1)!, new RegExp(`^\\[job ${jobId}\\] done in \\d+\\.\\d s$`));
    const text = result.versions[0]!;
    assert.match(
      text,
      /^❌ 1 error, 0 warnings — Linux 6\.1\.\d+, rustc 1\.\d+\.\d+\n```text\nerror\[E0308\]/,
    );
    assert.match(text, new RegExp(`!log ${jobId} shows the full log\\.$`));
    const log = (await say(`!log ${jobId}`)) ?? '';
    assert.match(log, /E0308/);
  });

  test('an unclosed code fence: built from what is there, and the user is told', async () => {
    const { say, surface } = chat();
    await say(`!build\n\`\`\`rust\n${GOOD_MODULE}// unclosed`);
    await surface.settled();
    assert.match(
      surface.messages[0]!.versions[0]!,
      /no closing ``` so I built everything after the opening one/,
    );
    assert.match(surface.messages[1]!.versions[0]!, /^✅ built hello\.ko/);
  });

  test('code longer than a chat question is read whole', async () => {
    const { say, surface } = chat();
    const long = `${GOOD_MODULE}${'// padding to make the module long\n'.repeat(200)}`;
    assert.ok(long.length > 5000);
    await say(fenced(long));
    await surface.settled();
    assert.match(surface.messages[1]!.versions[0]!, /^✅ built hello\.ko/);
    const job = await queue.queue.getJob(jobIdOf(surface.messages[0]!.versions[0]!));
    assert.equal(job?.data.request.kind === 'build' && job.data.request.source, long);
  });

  test('an attached .rs file is built and booted under its module! name; binary or other files are refused', async () => {
    const { say, surface } = chat();
    surface.files.set('a1', new TextEncoder().encode(GOOD_MODULE));
    surface.files.set(
      'bin',
      new Uint8Array(4096).map((_, i) => (i * 7) % 256),
    );
    surface.files.set('big', new Uint8Array(config.jobs.maxSourceKb * 1024 + 1).fill(32));
    const file = (id: string, name: string): AttachmentInfo => ({ id, name, mimeType: null, size: null });
    assert.equal(await say('!build --boot', [file('a1', 'My Module.rs')]), null);
    assert.match((await say('!build', [file('bin', 'evil.rs')])) ?? '', /“evil\.rs” looks like binary data/);
    assert.match(
      (await say('!build', [file('a1', 'notes.pdf')])) ?? '',
      /only take a Rust source file \(\.rs\)/,
    );
    assert.match((await say('!build', [file('big', 'big.rs')])) ?? '', /too large/);
    await surface.settled();
    const result = surface.messages[1]!.versions[0]!;
    // Named after its module! name (hello), not the file: the kernel's log lines carry that name.
    assert.match(result, /^✅ built hello\.ko, loaded and unloaded cleanly — Linux 6\.1\./);
    assert.match(result, /hello: loading out-of-tree module taints kernel\./);
  });

  test('unknown options and missing queues are explained', async () => {
    assert.match(
      (await chat().say(fenced(GOOD_MODULE, ' --frobnicate'))) ?? '',
      /I don’t know the option --frobnicate/,
    );
    assert.match((await chat(false).say(fenced(GOOD_MODULE))) ?? '', /can’t run builds here/);
  });
});

describe('the other job commands', () => {
  test('!sample: a name is needed; an unknown one lists the samples', async () => {
    const { say, surface } = chat();
    assert.match((await say('!sample')) ?? '', /^Which sample\?/);
    await say('!sample no_such_sample');
    await surface.settled();
    assert.match(
      surface.messages[1]!.versions[0]!,
      /has no Rust sample "no_such_sample"; its samples are: .*rust_minimal/,
    );
  });

  test('!cancel and !log want a job id, and say when they know none', async () => {
    const { say } = chat();
    assert.match((await say('!cancel')) ?? '', /^Which job\? Give its id, like !cancel b7k2x\./);
    assert.match((await say('!log zzzzz')) ?? '', /^I have no log for job zzzzz/);
    assert.match((await say('!cancel zzzzz')) ?? '', /^I don’t know a job zzzzz/);
  });

  test('!check-config with a pasted fragment: ❌, the failing dependency, and the verified fix lines', async () => {
    const { say, surface } = chat();
    await say('!check-config --kernel 6.1\n```\nCONFIG_MODULES=y\nCONFIG_MODVERSIONS=y\nCONFIG_RUST=y\n```');
    await surface.settled();
    const result = surface.messages[1]!.versions[0]!;
    assert.match(result, /^❌ .* — Linux 6\.1\.\d+/);
    assert.match(result, /MODVERSIONS \[=y\]/);
    assert.match(result, /^scripts\/config --file \.config --disable MODVERSIONS --enable RUST$/m);
    assert.doesNotMatch(result, /```/, 'findings are text, not a code block');
  });

  test('!check-config without a config asks for one; !help lists the job commands', async () => {
    const { say } = chat();
    assert.match((await say('!check-config')) ?? '', /^Attach your kernel \.config, or paste it/);
    const help = (await say('!help')) ?? '';
    for (const command of ['!build', '!sample', '!check-config', '!log', '!cancel'])
      assert.ok(help.includes(command), command);
    assert.match(help, /build your Rust kernel modules/);
  });
});

test('the terminal chat, piped: !build with a fenced block prints progress, then the result, then exits', async () => {
  const input = fenced(GOOD_MODULE.replace('Hello from Rust', 'Hello from the pipe'));
  const child = spawn(process.execPath, ['bot/main.ts', 'chat'], {
    cwd: REPO,
    env: {
      ...process.env,
      RFL_REDIS_URL: redis.url,
      RFL_JOBS_PREPARE_TREES_AT_START: 'false',
      // GOOD_MODULE is written for 6.1 (test/helpers/jobs.ts testConfig); the default series is 6.12.
      RFL_KERNEL_DEFAULT: '6.1',
      RFL_LOG_LEVEL: 'warn',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(`${input}\n`);
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
  const jobId = jobIdOf(stdout);
  assert.match(
    stdout,
    new RegExp(
      `^\\[job ${jobId}\\] queued \\(position 1\\) · !cancel ${jobId} stops it\\n` +
        `(\\[job ${jobId}\\] building[^\\n]*\\n)+` +
        `\\[job ${jobId}\\] done in \\d+\\.\\d s\\n\\n` +
        `✅ built hello\\.ko — Linux 6\\.1\\.\\d+, rustc 1\\.\\d+\\.\\d+, bindgen 0\\.\\d+\\.\\d+\\n` +
        `!log ${jobId} shows the full log\\.\\n$`,
    ),
  );
});

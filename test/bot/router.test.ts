import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import type { IncomingMessage } from '../../bot/chat/message.ts';
import { renderPlainText } from '../../bot/chat/render-text.ts';
import { createRouter } from '../../bot/dispatch/router.ts';
import type { Answer, FaqEntry, KnowledgeService } from '../../knowledge/answer-types.ts';
import type { Passage } from '../../knowledge/passage.ts';

function passage(n: number): Passage {
  return {
    id: `linux-6.1.192:Documentation/rust/doc${n}.rst#s${n}`,
    tree: 'linux-6.1.192',
    kernelVersion: '6.1.192',
    path: `Documentation/rust/doc${n}.rst`,
    sectionPath: [`Doc ${n}`, `Section ${n}`],
    anchor: `s${n}`,
    kind: 'doc',
    text: `Passage number ${n} explains something   useful.\n\nWith a second paragraph.`,
    code: [],
    url: `https://docs.kernel.org/6.1/rust/doc${n}.html#s${n}`,
    lines: [n, n + 5],
  };
}

const PASSAGES = [1, 2, 3, 4, 5, 6, 7, 8].map(passage);

const FAQ: FaqEntry[] = [
  {
    slug: 'rust-analyzer',
    title: 'Setting up rust-analyzer',
    body: 'Run make rust-analyzer.\nThen open the tree.',
    links: ['https://docs.kernel.org/6.1/rust/quick-start.html#rust-analyzer'],
    aliases: ['ide'],
  },
  { slug: 'rust-version', title: 'Which rustc?', body: 'See min-tool-version.sh.', links: [], aliases: [] },
];

/** Our KnowledgeService, faked: answers with two cited passages out of eight; "explode" throws. */
class FakeKnowledge implements KnowledgeService {
  questions: string[] = [];
  faqEntries = FAQ;

  async ask(question: string): Promise<Answer> {
    this.questions.push(question);
    if (question.includes('explode')) throw new Error('index file is corrupt at offset 42');
    if (question === 'thanks!') {
      return { ...this.#answer('You’re welcome!'), kind: 'smalltalk', citations: [], passages: [] };
    }
    return this.#answer(`Answer to: ${question.slice(0, 20)}`);
  }

  #answer(lead: string): Answer {
    return {
      kind: 'answer',
      lead,
      code: { language: 'sh', text: 'make LLVM=1 rustavailable' },
      details: [],
      citations: PASSAGES.slice(0, 2).map((p) => ({
        title: p.sectionPath.join(' › '),
        url: p.url,
        kernelVersion: p.kernelVersion,
      })),
      kernelVersion: '6.1.192',
      confidence: 0.9,
      passages: PASSAGES,
      via: 'extractive',
    };
  }

  faq(topic: string): FaqEntry[] {
    if (topic === '') return this.faqEntries;
    return this.faqEntries.filter((e) => e.slug.includes(topic) || e.aliases.includes(topic));
  }

  kernelVersions(): string[] {
    return ['6.1.192'];
  }
}

function setup(chat: { commandPrefix?: string } = {}) {
  const knowledge = new FakeKnowledge();
  const logLines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => logLines.push(JSON.parse(line)) });
  const router = createRouter({
    knowledge,
    chat: { commandPrefix: chat.commandPrefix ?? '!', botName: 'rfl-onboard' },
    log,
    maxMessageChars: 500,
  });
  let n = 0;
  const say = async (text: string, where: Partial<IncomingMessage> = {}) => {
    const reply = await router.handle({
      id: `m${++n}`,
      conversation: { roomId: 'room' },
      author: { id: 'u1', name: 'newcomer' },
      text,
      isDirect: true,
      mentionsBot: false,
      attachments: [],
      ...where,
    });
    return reply === null ? null : renderPlainText(reply);
  };
  return { knowledge, logLines, say };
}

const inChannel = { isDirect: false, mentionsBot: false };

describe('triggers', () => {
  test('in a channel, only commands and mentions are answered', async () => {
    const { say, knowledge } = setup();
    assert.equal(await say('anyone around?', inChannel), null);
    assert.match((await say('!help', inChannel)) ?? '', /!ask <question>/);
    const reply = await say('rfl-onboard: which rustc does 6.1 need?', { ...inChannel, mentionsBot: true });
    assert.match(reply ?? '', /^Answer to: which rustc/);
    assert.deepEqual(knowledge.questions, ['which rustc does 6.1 need?']);
  });

  test('a direct message is a question; the prefix is configurable', async () => {
    const { say, knowledge } = setup({ commandPrefix: '?' });
    assert.match((await say('?help')) ?? '', /\?faq \[topic\]/);
    await say('!help');
    assert.deepEqual(knowledge.questions, ['!help']);
  });

  test('chatter that merely starts with the prefix is ignored in a channel', async () => {
    const { say } = setup();
    assert.equal(await say('!!! it works', inChannel), null);
    assert.equal(await say('!important meeting', inChannel), null);
  });
});

describe('commands', () => {
  test('!help lists every command with its usage and the indexed kernel version', async () => {
    const { say } = setup();
    const help = (await say('!help')) ?? '';
    for (const usage of ['!help', '!ask <question>', '!faq [topic]', '!sources [n]'])
      assert.ok(help.includes(usage));
    assert.match(help, /kernel 6\.1\b/);
  });

  test('an unknown command gets a hint with the closest command', async () => {
    const { say } = setup();
    assert.match((await say('!hlep')) ?? '', /Did you mean !help\?/);
    assert.match((await say('!soruces 4', inChannel)) ?? '', /Did you mean !sources\?/);
    assert.match((await say('!zzzzzz')) ?? '', /!help lists what I can do/);
  });

  test('!ask without a question asks for one, with an example', async () => {
    const { say, knowledge } = setup();
    assert.match((await say('!ask')) ?? '', /^What would you like to know\? For example: !ask /);
    assert.deepEqual(knowledge.questions, []);
  });

  test('an answer shows its code and the Sources line with versions', async () => {
    const { say } = setup();
    const reply = (await say('!ask how do I check my toolchain?')) ?? '';
    assert.match(reply, /```sh\nmake LLVM=1 rustavailable\n```/);
    assert.match(
      reply,
      /^Sources: \[1\] Doc 1 › Section 1 \(6\.1\) <https:\/\/docs\.kernel\.org\/6\.1\/rust\/doc1\.html#s1> · \[2\] Doc 2/m,
    );
  });
});

describe('!faq', () => {
  test('without a topic it lists every entry', async () => {
    const { say } = setup();
    const reply = (await say('!faq')) ?? '';
    assert.match(reply, /FAQ entries \(2\)/);
    assert.match(reply, /!faq rust-analyzer — Setting up rust-analyzer/);
    assert.match(reply, /!faq rust-version — Which rustc\?/);
  });

  test('a topic shows the best entry with its links and names the related ones', async () => {
    const { say } = setup();
    const reply = (await say('!faq rust')) ?? '';
    assert.match(reply, /^Setting up rust-analyzer\nRun make rust-analyzer\.\nThen open the tree\./);
    assert.match(reply, /Related: !faq rust-version/);
    assert.match(reply, /Sources: \[1\] quick-start#rust-analyzer <https:/);
  });

  test('a mistyped topic gets the close entries; a far one a hint', async () => {
    const { say } = setup();
    assert.match(
      (await say('!faq rust-analyser')) ?? '',
      /No FAQ entry matches “rust-analyser”\. Close ones:\n!faq rust-analyzer/,
    );
    assert.match(
      (await say('!faq sourdough')) ?? '',
      /No FAQ entry matches “sourdough”\.\n!faq lists them all/,
    );
  });

  test('an empty FAQ says so', async () => {
    const { say, knowledge } = setup();
    knowledge.faqEntries = [];
    assert.match((await say('!faq rust')) ?? '', /The FAQ has no entries yet/);
  });
});

describe('!sources', () => {
  test('before any answer it explains what to do first', async () => {
    const { say } = setup();
    assert.match((await say('!sources')) ?? '', /I haven’t answered a question here yet/);
  });

  test('pages through the passages the cited ones left out, numbered on from them', async () => {
    const { say } = setup();
    await say('how do I enable CONFIG_RUST?');
    const first = (await say('!sources')) ?? '';
    assert.match(first, /^More of what I found for “how do I enable CONFIG_RUST\?”:/);
    assert.match(
      first,
      /^\[3\] Doc 3 › Section 3 \(6\.1\) <https:\/\/docs\.kernel\.org\/6\.1\/rust\/doc3\.html#s3>$/m,
    );
    assert.match(first, /^ {4}Passage number 3 explains something useful\. With a second paragraph\.$/m);
    assert.match(first, /\[5\] Doc 5/);
    assert.doesNotMatch(first, /\[6\]|Doc 1 |Doc 6/);
    assert.match(first, /3 more: !sources$/);
    const rest = (await say('!sources 10')) ?? '';
    assert.match(rest, /\[6\] Doc 6[\s\S]*\[8\] Doc 8/);
    assert.match(rest, /That’s everything I found\.$/);
    assert.match(
      (await say('!sources')) ?? '',
      /That’s everything I found for “how do I enable CONFIG_RUST\?”/,
    );
  });

  test('belongs to the conversation, and smalltalk does not replace the last answer', async () => {
    const { say } = setup();
    await say('how do I enable CONFIG_RUST?');
    assert.match((await say('thanks!')) ?? '', /welcome/);
    assert.match((await say('!sources 1')) ?? '', /\[3\] Doc 3/);
    const thread = { conversation: { roomId: 'room', threadId: 't1' } };
    assert.match((await say('!sources', thread)) ?? '', /haven’t answered a question here yet/);
  });

  test('a count that is not a number gets the usage', async () => {
    const { say } = setup();
    assert.match((await say('!sources lots')) ?? '', /like !sources 5/);
  });
});

describe('bad input', () => {
  test('an empty or blank message gets a friendly nudge', async () => {
    const { say, knowledge } = setup();
    assert.match((await say('   \n\t ')) ?? '', /Your message was empty.*!help/);
    assert.match((await say('rfl-onboard:', { ...inChannel, mentionsBot: true })) ?? '', /empty/);
    assert.deepEqual(knowledge.questions, []);
  });

  test('binary junk is refused without reaching the knowledge base', async () => {
    const { say, knowledge } = setup();
    const junk = Buffer.from([
      0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0xff, 0xfe, 3, 0, 0x3e, 0,
    ]).toString();
    assert.match((await say(junk)) ?? '', /looks like binary data/);
    assert.deepEqual(knowledge.questions, []);
  });

  test('control characters and terminal escapes never reach the knowledge base', async () => {
    const { say, knowledge } = setup();
    await say('\u001b[31mwhy\u001b[0m does\u0007 \u202emake fail?');
    assert.deepEqual(knowledge.questions, ['why does make fail?']);
  });

  test('a pasted terminal title left open, or a charset switch, takes nothing of the question with it', async () => {
    const { say, knowledge } = setup();
    await say('\u001b]0;user@host\nwhy does \u001b(Bmake fail?');
    assert.deepEqual(knowledge.questions, ['why does make fail?']);
  });

  test('a huge message is cut to the cap, and the reply says so', async () => {
    const { say, knowledge } = setup();
    const reply = (await say(`why ${'very '.repeat(10_000)}slow?`)) ?? '';
    assert.equal(knowledge.questions[0]?.length, 500);
    assert.match(reply, /only read its first 500 characters/);
  });

  test('a code fence left open is closed before the question is asked', async () => {
    const { say, knowledge } = setup();
    const reply = await say('why does this fail?\n```\nerror[E0461]: couldn’t find crate `core`');
    assert.match(reply ?? '', /^Answer to:/);
    assert.match(knowledge.questions[0] ?? '', /`core`\n```$/);
  });

  test('a failing knowledge base gets a short apology, and the log gets the detail', async () => {
    const { say, logLines } = setup();
    const reply = (await say('please explode')) ?? '';
    assert.match(reply, /^Sorry, something went wrong on my side/);
    assert.doesNotMatch(reply, /corrupt|offset|Error/);
    const logged = logLines.find((line) => line.level === 50);
    assert.equal(logged?.msg, 'the knowledge service failed to answer');
    assert.match(JSON.stringify(logged?.err), /index file is corrupt at offset 42/);
  });
});

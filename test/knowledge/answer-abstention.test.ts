/**
 * Calibrated abstention, through the knowledge service the router calls: a kernel topic the docs never
 * name gets "I don't know" with where to ask, not the nearest passage about configuration or Rust,
 * while real questions worded the same way keep their answers. Built from the fixture corpus and the
 * FAQ, like the bot's own index.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ABSTAIN_LEAD } from '../../knowledge/compose.ts';
import { pipedChat } from '../bot/terminal-dispatcher.ts';
import { fixtureChat, log } from '../helpers/chat-fixture.ts';
import { fixtureKnowledge } from '../helpers/fixture-knowledge.ts';
import { REPO } from '../helpers/paths.ts';

const { service } = await fixtureKnowledge('abstention');

/** Made-up kernel topics: the tuning set (the held-out one is only scored by `npm run eval`). */
const madeUp = readFileSync(join(REPO, 'test/fixtures/eval/made-up-tuning.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => (JSON.parse(line) as { question: string }).question);

test('a made-up kernel topic is declined with where to ask, not answered from nearby docs', async () => {
  for (const question of [
    'how do I configure the foo-bar-baz widget in the Rust scheduler?',
    'How do I enable FOO_BAR_BAZ for the Rust frobnicator?',
  ]) {
    const answer = await service.ask(question);
    assert.equal(answer.kind, 'abstain', `${question}\n${answer.lead}`);
    assert.equal(answer.lead, ABSTAIN_LEAD);
    const details = answer.details.join('\n');
    assert.match(details, /rust-for-linux\.zulipchat\.com/);
    assert.match(details, /rust-for-linux@vger\.kernel\.org/);
    assert.match(details, /kernel version/, 'what to include in the question');
    assert.doesNotMatch(answer.lead, /rust-analyzer|FOO|BAR|BAZ/);
  }
});

test('most made-up topics are declined, whatever their wording', async () => {
  const declined = [];
  for (const question of madeUp)
    if ((await service.ask(question)).kind === 'abstain') declined.push(question);
  assert.ok(declined.length >= madeUp.length - 1, `declined only:\n${declined.join('\n')}`);
});

test('chatty everyday words the docs lack and a pasted log do not make a real question unanswerable', async () => {
  for (const question of [
    'hi folks, total newbie here, sorry for the dumb question: how do I install bindgen?',
    "Apologies, I'm a hobbyist tinkerer with a spare laptop: which rustc version do I need?",
    'Greetings folks, newbie tinkerer here. Where is CONFIG_RUST in menuconfig? I looked everywhere, hopelessly.',
    'How do I install bindgen? My build says:\n```\nmake[2]: *** [/home/me/zorp-linux/rust/bindings_generated.o] Error 1\n```',
  ]) {
    const answer = await service.ask(question);
    assert.equal(answer.kind, 'answer', `${question}: ${answer.lead}`);
  }
});

test('real questions, including ones naming things the docs call otherwise, are still answered', async () => {
  for (const question of [
    'Which rustc version do I need?',
    'How do I install bindgen?',
    'Where is CONFIG_RUST in menuconfig?',
    'How do I get autocompletion in my editor for kernel Rust code?',
    'Is RISC-V supported by Rust for Linux?',
    'How do I write a minimal Rust kernel module?',
    'Where can I ask questions about Rust for Linux?',
  ]) {
    const answer = await service.ask(question);
    assert.equal(answer.kind, 'answer', `${question}: ${answer.lead}`);
  }
});

test('through the terminal chat: a made-up topic gets where to ask; a real question beside it its answer', async () => {
  const { router } = fixtureChat(service, 'terminal');
  const printed = await pipedChat(
    router,
    [
      'how do I configure the foo-bar-baz widget in the Rust scheduler?',
      'hi folks, total newbie here, sorry for the dumb question: how do I install bindgen?',
      '',
    ].join('\n'),
    log,
  );
  const [madeUp, real] = printed.trim().split(/\n\n(?=\S)/);
  assert.match(madeUp ?? '', /^I don't know that one/, printed);
  assert.match(madeUp ?? '', /rust-for-linux\.zulipchat\.com/);
  assert.doesNotMatch(madeUp ?? '', /rust-analyzer|FOO|BAR|BAZ/);
  assert.doesNotMatch(real ?? '', /I don't know/, printed);
  assert.match(real ?? '', /bindgen/);
});

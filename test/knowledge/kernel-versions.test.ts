/**
 * Every configured kernel series indexed side by side: a question naming a series is answered from
 * it, one naming none from the default series, one naming a series that is not indexed says so, and
 * "since which version" is read from each tree's own Rust sources. On small fixture trees, then through
 * the terminal chat on the provisioned 6.1 and 6.12 trees (skipped, saying why, where they are absent).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { KernelConfig } from '../../jobs/kernel/kernel-source.ts';
import { kernelPlan } from '../../jobs/kernel/kernel-source.ts';
import type { KnowledgeService } from '../../knowledge/answer-types.ts';
import { configuredSources, kernelTreesToIndex } from '../../knowledge/kernel-trees.ts';
import { loadKnowledgeBase } from '../../knowledge/knowledge-base.ts';
import { createKnowledgeService } from '../../knowledge/service.ts';
import { pipedChat } from '../bot/terminal-dispatcher.ts';
import { fixtureChat, log } from '../helpers/chat-fixture.ts';
import { writeKernelTree } from '../helpers/kernel-fixture.ts';
import { defaultConfig } from '../helpers/prepared-tree.ts';

const work = mkdtempSync(join(tmpdir(), 'rfl-kernel-versions-'));

function write(root: string, path: string, text: string): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
}

/** Two series in the shape of 6.1 and 6.12: the newer has a vector type the older lacks. */
function fixtureTrees(): { old: string; current: string } {
  const old = writeKernelTree(join(work, 'linux-6.1'), {
    version: '6.1.50',
    rustc: '1.62.0',
    bindgen: '0.56.0',
    configNote: 'On this series it sits in the first menu.',
  });
  const current = writeKernelTree(join(work, 'linux-6.12'), {
    version: '6.12.9',
    rustc: '1.78.0',
    bindgen: '0.65.1',
    configNote: 'On this series it moved below the allocator options.',
  });
  const moduleTrait = (extra: string) =>
    `/// What a loadable module implements.\npub trait Module: Sized + Sync${extra} {\n    /// Runs when the module is loaded.\n    fn init() -> Result<Self>;\n}\n`;
  write(old, 'rust/kernel/lib.rs', moduleTrait(''));
  write(current, 'rust/kernel/lib.rs', moduleTrait(' + Send'));
  write(
    current,
    'rust/kernel/alloc/kvec.rs',
    '//! Growable arrays.\n\n/// A vector whose memory comes from kmalloc.\npub type KVec<T> = Vec<T, Kmalloc>;\n',
  );
  return { old, current };
}

async function fixtureService(defaultSeries: string): Promise<KnowledgeService> {
  const { old, current } = fixtureTrees();
  const kb = await loadKnowledgeBase(
    {
      kernelTrees: [current, old],
      defaultSeries,
      markdownTrees: [],
      faqDir: null,
      wholeDocumentation: false,
    },
    { cacheDir: join(work, 'cache'), name: `fixture-${defaultSeries}`, log },
  );
  return createKnowledgeService(kb, { knowledge: { minConfidence: 0.15, maxSources: 3 }, llm: null, log });
}

describe('two series on fixture trees, 6.12 the default', async () => {
  const knowledge = await fixtureService('6.12');

  test('each series answers its own rustc minimum, with a link pinned to that release', async () => {
    const current = await knowledge.ask('which rustc does 6.12 need?');
    assert.match(current.lead, /1\.78\.0/);
    assert.doesNotMatch(current.lead, /1\.62\.0/);
    assert.match(current.citations[0]!.url, /\/v6\.12\.9\/source\/scripts\/min-tool-version\.sh/);
    const old = await knowledge.ask('which rustc does 6.1 need?');
    assert.match(old.lead, /1\.62\.0/);
    assert.match(old.citations[0]!.url, /\/v6\.1\.50\/source\/scripts\/min-tool-version\.sh/);
  });

  test("a question naming 6.12 gets 6.12's docs, named as 6.12's", async () => {
    const answer = await knowledge.ask('where is CONFIG_RUST in the configuration menus on 6.12?');
    assert.match(answer.lead, /moved below the allocator options/);
    assert.equal(answer.kernelVersion, '6.12.9');
    assert.match(answer.citations[0]!.url, /kernel\.org\/doc\/html\/v6\.12\//);
  });

  test('a series that is not indexed is said so', async () => {
    const answer = await knowledge.ask('which rustc does 7.1 need?');
    assert.match(answer.lead, /^You asked about 7\.1, but I only have the 6\.1 and 6\.12 docs indexed/);
  });

  test("since which version an API exists is read from each tree's sources, citing the file", async () => {
    const answer = await knowledge.ask('since which version does KVec exist?');
    assert.equal(answer.kind, 'answer');
    assert.match(answer.lead, /`KVec` is in 6\.12, not in 6\.1/);
    assert.deepEqual(
      answer.citations.map((citation) => citation.url),
      ['https://elixir.bootlin.com/linux/v6.12.9/source/rust/kernel/alloc/kvec.rs#L4'],
    );
  });

  test('how an item changed shows how each series declares it', async () => {
    const answer = await knowledge.ask('how did the Module trait change between 6.1 and 6.12?');
    assert.match(answer.lead, /in 6\.1, `pub trait Module: Sized \+ Sync`/);
    assert.match(answer.lead, /in 6\.12, `pub trait Module: Sized \+ Sync \+ Send`/);
    assert.equal(answer.citations.length, 2);
  });

  test('a name no tree declares is left to the docs', async () => {
    const answer = await knowledge.ask('since which version does FooBarQueue exist?');
    assert.doesNotMatch(answer.lead, /FooBarQueue` is/);
  });
});

test('a question naming no version is answered from the configured default series', async () => {
  // 6.1 as the default, so that "the newest tree" would give the other answer.
  const knowledge = await fixtureService('6.1');
  const answer = await knowledge.ask('which rustc do I need?');
  assert.match(answer.lead, /1\.62\.0/);
  assert.doesNotMatch(answer.lead, /1\.78\.0/);
});

test('every configured series is found for indexing, the default first, a missing one reported', async () => {
  const { old, current } = fixtureTrees();
  const tree = (series: string, source: Partial<KernelConfig['trees'][number]>) => ({
    series,
    path: '',
    tarball: '',
    debianSource: '',
    toolchain: 'system',
    ...source,
  });
  const kernel: KernelConfig = {
    default: '6.12',
    trees: [
      tree('6.1', { path: old }),
      tree('6.12', { path: current }),
      tree('6.6', { tarball: join(work, 'none.tar.xz') }),
    ],
    toolchains: {
      system: {
        rustc: '/usr/bin/rustc',
        debianRust: '',
        bindgen: '/usr/bin/bindgen',
        bindgenCrate: '',
        clang: '/usr/bin/clang',
        minRustc: '',
        minBindgen: '',
      },
    },
    src: '',
    extraTrees: [{ path: join(work, 'answers-only') }],
  };
  const found = await kernelTreesToIndex(kernel, { cacheDir: join(work, 'cache'), log });
  assert.deepEqual(found.roots, [current, old, join(work, 'answers-only')]);
  assert.equal(found.defaultSeries, '6.12');
  assert.equal(found.problems.length, 1);
  assert.match(found.problems[0]!, /6\.6/);
});

describe('mainline docs beside an older release', async () => {
  // A corpus folder holding an unversioned kernel tree (mainline's docs), and a 6.1 tree whose own
  // rust/kernel doc comment says more words of the question than mainline's guide does.
  const corpus = join(work, 'corpus');
  write(
    join(corpus, 'linux'),
    'Documentation/rust/printing.rst',
    'Printing\n========\n\nA module prints a message to the kernel log with pr_info!.\n',
  );
  const old = writeKernelTree(join(work, 'linux-6.1-beside-mainline'), {
    version: '6.1.50',
    rustc: '1.62.0',
    bindgen: '0.56.0',
    configNote: '',
  });
  write(
    old,
    'rust/kernel/print.rs',
    '//! Printing.\n\n/// Prints a message from a module to the kernel log, like printk.\n#[macro_export]\nmacro_rules! pr_info { () => {} }\n',
  );
  const kb = await loadKnowledgeBase(
    { corpora: [corpus], kernelTrees: [old], markdownTrees: [], faqDir: null, wholeDocumentation: false },
    { cacheDir: join(work, 'cache'), name: 'mainline-beside-6.1', log },
  );
  const knowledge = createKnowledgeService(kb, {
    knowledge: { minConfidence: 0.15, maxSources: 3 },
    llm: null,
    log,
  });

  test('a question naming no version is answered from mainline, the newest', async () => {
    const answer = await knowledge.ask('how do I print a message to the kernel log from a module?');
    assert.equal(answer.kind, 'answer');
    assert.match(answer.citations[0]!.url, /printing/);
    assert.equal(answer.citations[0]!.kernelVersion, null);
  });

  test('a question naming 6.1 is still answered from 6.1', async () => {
    const answer = await knowledge.ask('on 6.1, how do I print a message to the kernel log from a module?');
    assert.equal(answer.citations[0]!.kernelVersion, '6.1.50');
  });
});

/** The provisioned trees of the default config, or why a test on them cannot run here. */
function provisionedTrees(): { ok: true } | { ok: false; why: string } {
  const config = defaultConfig();
  const plan = kernelPlan(config.kernel, config.cacheDir);
  if (!plan.ok) return { ok: false, why: plan.failure.userText };
  const missing = plan.value.series.filter((series) => !existsSync(join(series.sourceDir, 'Makefile')));
  return missing.length === 0
    ? { ok: true }
    : {
        ok: false,
        why: `not provisioned: ${missing.map((s) => s.sourceDir).join(', ')} (npm run provision)`,
      };
}

const provisioned = provisionedTrees();

test('through the terminal chat on the provisioned 6.1 and 6.12 trees', {
  skip: provisioned.ok ? false : provisioned.why,
}, async () => {
  const config = defaultConfig();
  // The bot's own sources: every configured series, the FAQ, the Markdown trees.
  const kb = await loadKnowledgeBase(await configuredSources(config, log), {
    cacheDir: join(work, 'real-cache'),
    name: 'real',
    log,
  });
  const knowledge = createKnowledgeService(kb, { knowledge: config.knowledge, llm: null, log });
  const { router } = fixtureChat(knowledge, 'terminal');
  const printed = await pipedChat(
    router,
    [
      'which rustc does 6.12 need?',
      'which rustc does 6.1 need?',
      'how do I run the KUnit doctests on 6.12?',
      'since which version does KVec exist?',
      '',
    ].join('\n'),
    log,
  );
  // One reply per question, a blank line after each.
  const [rustc612, rustc61, doctests, kvec] = printed.trim().split('\n\n');
  assert.ok(rustc612 && rustc61 && doctests && kvec, printed);
  assert.match(rustc612, /^Linux 6\.12\.\d+ needs at least rustc 1\.78\.0/);
  assert.match(
    rustc612,
    /Sources: \[1\] Minimum tool versions \(6\.12\) <https:\/\/elixir\.bootlin\.com\/linux\/v6\.12\.\d+\/source\/scripts\/min-tool-version\.sh/,
  );
  assert.match(rustc61, /^Linux 6\.1\.\d+ needs at least rustc 1\.62\.0/);
  assert.match(
    rustc61,
    /Sources: \[1\] Minimum tool versions \(6\.1\) <https:\/\/elixir\.bootlin\.com\/linux\/v6\.1\.\d+\/source\/scripts\/min-tool-version\.sh/,
  );
  assert.match(doctests, /CONFIG_RUST_KERNEL_DOCTESTS/);
  assert.match(
    doctests,
    /Sources: \[1\] [^<]*\(6\.12\) <https:\/\/www\.kernel\.org\/doc\/html\/v6\.12\/rust\/testing\.html/,
  );
  assert.match(kvec, /^`KVec` is in 6\.12, not in 6\.1/);
  assert.match(
    kvec,
    /Sources: \[1\] rust\/kernel\/alloc\/kvec\.rs › KVec \(6\.12\) <https:\/\/elixir\.bootlin\.com\/linux\/v6\.12\.\d+\/source\/rust\/kernel\/alloc\/kvec\.rs#L\d+>/,
  );
});

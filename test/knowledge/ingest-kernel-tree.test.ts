import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseMinToolVersions } from '../../jobs/kernel/min-tool-version.ts';
import { ingestCorpus } from '../../knowledge/ingest/corpus.ts';
import { ingestKernelTree } from '../../knowledge/ingest/kernel-tree.ts';
import type { Passage } from '../../knowledge/passage.ts';
import { FIXTURE_CORPUS, KERNEL_61 } from '../helpers/paths.ts';

const fixtureRoot = fileURLToPath(new URL('../fixtures/ingest/kernel', import.meta.url));
const corpusDir = FIXTURE_CORPUS;
const kernel61 = existsSync(join(KERNEL_61, 'Makefile')) ? KERNEL_61 : undefined;

const find = (passages: Passage[], id: string) => {
  const passage = passages.find((candidate) => candidate.id === id);
  assert.ok(passage, `no passage ${id}`);
  return passage;
};

test('a versioned tree pins docs to its release and sources to its tag', async () => {
  const { tree, passages } = await ingestKernelTree(fixtureRoot);
  assert.deepEqual(tree, { id: 'linux-9.8.7-rc1', root: fixtureRoot, kernelVersion: '9.8.7-rc1' });
  const building = find(passages, 'linux-9.8.7-rc1:Documentation/rust/widgets.rst#building');
  assert.equal(building.url, 'https://www.kernel.org/doc/html/v9.8/rust/widgets.html#building');
  assert.deepEqual(building.code, ['make LLVM=1 widgets']);
  assert.deepEqual(building.lines, [6, 11]);
  const answer = find(passages, 'linux-9.8.7-rc1:rust/kernel/lib.rs#answer');
  assert.equal(answer.url, 'https://elixir.bootlin.com/linux/v9.8.7-rc1/source/rust/kernel/lib.rs#L22');
  assert.equal(new Set(passages.map((passage) => passage.id)).size, passages.length, 'ids are unique');
  assert.ok(passages.every((passage) => passage.kernelVersion === '9.8.7-rc1'));
});

/** The Documentation/ folder of each doc passage (`rust`, `dev-tools`, …; a top-level file as itself). */
const docFolders = (passages: Passage[]) =>
  new Set(passages.filter((passage) => passage.kind === 'doc').map((passage) => passage.path.split('/')[1]!));

const NEWCOMER_FOLDERS = ['dev-tools', 'kbuild', 'process', 'rust'];

test('only the newcomer folders of Documentation/ by default, all of it on request', async () => {
  const paths = async (wholeDocumentation: boolean) => {
    const { passages } = await ingestKernelTree(fixtureRoot, { wholeDocumentation, id: 'fixture' });
    return [
      ...new Set(passages.filter((passage) => passage.kind === 'doc').map((passage) => passage.path)),
    ].sort();
  };
  const newcomer = [
    'Documentation/dev-tools/kunit/widget-tests.rst',
    'Documentation/kbuild/widget-makefiles.rst',
    'Documentation/process/changes.rst',
    'Documentation/rust/widgets.rst',
  ];
  assert.deepEqual(await paths(false), newcomer);
  assert.deepEqual(
    await paths(true),
    [
      ...newcomer,
      'Documentation/admin-guide/widget-params.rst',
      'Documentation/networking/packets.rst',
    ].sort(),
  );

  const { passages } = await ingestKernelTree(fixtureRoot, { id: 'fixture' });
  assert.deepEqual([...docFolders(passages)].sort(), NEWCOMER_FOLDERS);
  const changes = find(passages, 'fixture:Documentation/process/changes.rst#rust');
  assert.deepEqual(changes.sectionPath, ['Minimal Widget Toolchain', 'Rust']);
  assert.equal(changes.url, 'https://www.kernel.org/doc/html/v9.8/process/changes.html#rust');
  const kunit = passages.find((passage) => passage.path === 'Documentation/dev-tools/kunit/widget-tests.rst');
  assert.match(kunit?.text ?? '', /CONFIG_WIDGET_KUNIT_TEST/);
});

test('samples: module docs, module! and the module’s life as text with the code, Kconfig entries, and the Makefile', async () => {
  const { passages } = await ingestKernelTree(fixtureRoot, { id: 'fx' });
  const sample = find(passages, 'fx:samples/rust/rust_widget.rs#rust_widget.rs');
  assert.equal(sample.kind, 'sample');
  assert.match(sample.text, /^A widget sample that greets on load\./);
  assert.match(sample.text, /`rust_widget` \("Greeting widget sample"\)/);
  assert.match(sample.code[0] ?? '', /^\/\/! A widget sample[\s\S]*impl kernel::Module for Widget/);
  // What its code shows about a module's life, in the words newcomers ask with.
  assert.match(sample.text, /`init` runs when the module is loaded \(module_init\)/);
  assert.match(
    sample.text,
    /`Drop` implementation runs when the module is unloaded: the exit function \(module_exit\)/,
  );
  const option = find(passages, 'fx:samples/rust/Kconfig#CONFIG_SAMPLE_RUST_WIDGET');
  assert.match(option.text, /"Widget" \(tristate\).*depends on SAMPLES_RUST && NET/);
  assert.match(option.text, /Say M to get the module rust_widget\./);
  const makefile = find(passages, 'fx:samples/rust/Makefile#Makefile');
  assert.deepEqual(makefile.sectionPath, ['Rust samples', 'Makefile']);
  assert.match(makefile.text, /CONFIG_SAMPLE_RUST_WIDGET builds rust_widget\.o, rust_gadget\.o/);
  assert.match(makefile.text, /rust_gadget\.o is linked from gadget_main\.o, gadget_extra\.o/);
  assert.doesNotMatch(makefile.text, /ccflags/);
});

test('rust docs: module docs, a public item listing, and items with their signature first', async () => {
  const { passages } = await ingestKernelTree(fixtureRoot, { id: 'fx' });
  const listing = find(passages, 'fx:rust/kernel/lib.rs#public-items');
  assert.deepEqual(listing.sectionPath, ['kernel']);
  assert.match(listing.text, /- module net \(only with CONFIG_NET\)\n- module module_param\n/);
  const answer = find(passages, 'fx:rust/kernel/lib.rs#answer');
  assert.deepEqual(answer.sectionPath, ['kernel', 'answer']);
  assert.deepEqual(answer.code, ['pub fn answer() -> u32', 'assert_eq!(kernel::answer(), 42);']);
  assert.equal(answer.text, 'Returns the answer.\n\nExamples');
  assert.deepEqual(find(passages, 'fx:rust/macros/lib.rs#widget_module!').sectionPath, [
    'macros',
    'widget_module!',
  ]);
  assert.deepEqual(find(passages, 'fx:rust/kernel/sync/mod.rs#Widget::new').sectionPath, [
    'kernel',
    'sync',
    'Widget::new',
  ]);
});

test('the tool table is stated as quotable facts, conditional versions included', async () => {
  const { passages } = await ingestKernelTree(fixtureRoot);
  const facts = passages.filter((passage) => passage.kind === 'tool-versions');
  assert.equal(facts.length, 1);
  assert.match(facts[0]!.text, /^Linux 9\.8\.7-rc1 needs at least rustc 9\.1\.0 and bindgen 0\.99\.2/);
  assert.match(facts[0]!.text, /29\.0\.0 \(30\.0\.0 when SRCARCH is sparc; 31\.0\.0 when ARCH is um\)/);
  assert.deepEqual(facts[0]!.lines, [5, 28]);
});

test('a corpus folder: one tree per folder, paths relative to each tree, unique ids', async () => {
  const { trees, passages } = await ingestCorpus(corpusDir);
  assert.deepEqual(
    trees.map((tree) => [tree.id, tree.root, tree.kernelVersion]),
    [
      ['linux-mainline', join(corpusDir, 'linux'), null],
      ['rust-for-linux.com', join(corpusDir, 'rust-for-linux.com'), null],
      ['rust-out-of-tree-module', join(corpusDir, 'rust-out-of-tree-module'), null],
    ],
  );
  assert.equal(new Set(passages.map((passage) => passage.id)).size, passages.length);
  assert.ok(passages.some((passage) => passage.path === 'Documentation/rust/quick-start.rst'));
  assert.ok(!passages.some((passage) => passage.path === 'SUMMARY.md' || passage.path === 'LICENSE'));

  const bindgen = find(passages, 'linux-mainline:Documentation/rust/quick-start.rst#bindgen');
  assert.deepEqual(bindgen.sectionPath.slice(-2), ['Requirements: Building', 'bindgen']);
  assert.equal(bindgen.url, 'https://docs.kernel.org/rust/quick-start.html#bindgen');
  assert.ok(bindgen.code.includes('cargo install --locked bindgen-cli'));

  const contributing = passages.find((passage) => passage.sectionPath.at(-1) === 'Ways to contribute');
  assert.equal(contributing?.url, 'https://rust-for-linux.com/contributing#ways-to-contribute');
});

test('corpus min-tool-version facts name rustc and bindgen with the versions in the script', async () => {
  const versions = parseMinToolVersions(
    readFileSync(join(corpusDir, 'linux/scripts/min-tool-version.sh'), 'utf8'),
  );
  const { passages } = await ingestKernelTree(join(corpusDir, 'linux'));
  const facts = find(passages, 'linux-mainline:scripts/min-tool-version.sh#min-tool-versions');
  assert.ok(versions.rustc && versions.bindgen);
  assert.ok(facts.text.includes(`rustc ${versions.rustc} and bindgen ${versions.bindgen}`), facts.text);
  assert.match(facts.url, /^https:\/\/git\.kernel\.org\/.*\/tree\/scripts\/min-tool-version\.sh#n\d+$/);
});

test('corpus lib.rs answers "is there a net / module_param module?"', async () => {
  const { passages } = await ingestKernelTree(join(corpusDir, 'linux'));
  const listing = find(passages, 'linux-mainline:rust/kernel/lib.rs#public-items');
  assert.match(listing.text, /^- module net \(only with CONFIG_NET\)$/m);
  assert.match(listing.text, /^- module module_param$/m);
  assert.ok(passages.some((passage) => passage.sectionPath.join(' ') === 'macros module!'));
});

test('the Debian 6.1 tree: version from its Makefile, links pinned to it', {
  skip: !kernel61 && 'no unpacked 6.1 tree',
}, async () => {
  const { tree, passages } = await ingestKernelTree(kernel61!);
  assert.match(tree.kernelVersion ?? '', /^6\.1\.\d+$/);
  assert.equal(tree.id, `linux-${tree.kernelVersion}`);
  const quickStart = passages.find((passage) => passage.path === 'Documentation/rust/quick-start.rst');
  assert.match(
    quickStart?.url ?? '',
    /^https:\/\/www\.kernel\.org\/doc\/html\/v6\.1\/rust\/quick-start\.html#/,
  );
  const facts = passages.find((passage) => passage.kind === 'tool-versions');
  assert.match(facts?.text ?? '', new RegExp(`^Linux ${tree.kernelVersion} needs at least rustc \\d`));
  assert.deepEqual([...docFolders(passages)].sort(), NEWCOMER_FOLDERS, 'the newcomer folders, nothing else');
  for (const path of ['Documentation/process/changes.rst', 'Documentation/kbuild/makefiles.rst'])
    assert.ok(
      passages.some((passage) => passage.path === path),
      path,
    );
  assert.ok(passages.some((passage) => passage.path.startsWith('Documentation/dev-tools/kunit/')));
  assert.equal(new Set(passages.map((passage) => passage.id)).size, passages.length);
});

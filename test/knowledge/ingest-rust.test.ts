import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseMinToolTable, parseMinToolVersions } from '../../jobs/kernel/min-tool-version.ts';
import { rustModulePath } from '../../knowledge/ingest/rust-docs.ts';
import { parseRustSource } from '../../knowledge/ingest/rust-source.ts';

const fixture = (path: string) =>
  readFileSync(new URL(`../fixtures/ingest/kernel/${path}`, import.meta.url), 'utf8');

test('module docs are the //! lines; /// docs come with the name and signature of their item', () => {
  const lib = parseRustSource(fixture('rust/kernel/lib.rs'));
  assert.deepEqual(
    lib.moduleDocs.map((line) => line.text),
    ['The fixture `kernel` crate.', '', 'It only exists to exercise the ingester.'],
  );
  assert.deepEqual(
    lib.items.map((item) => [item.name, item.signature, item.lines]),
    [
      ['answer', 'pub fn answer() -> u32', [22, 29]],
      ['widget!', 'macro_rules! widget', [33, 35]],
    ],
  );
});

test('doc comments inside a multi-line string (generated code) are not items of the file', () => {
  const names = parseRustSource(fixture('rust/kernel/lib.rs')).items.map((item) => item.name);
  assert.ok(!names.includes('generated'));
});

test('methods, fields and trait impls are named after their type, even after a where clause', () => {
  const sync = parseRustSource(fixture('rust/kernel/sync/mod.rs'));
  assert.deepEqual(
    sync.items.map((item) => item.name),
    ['Widget', 'Widget::users', 'Widget::new', 'Gadget::from', 'Gadget'],
  );
});

test('public items list cfg conditions and skip hidden and private ones', () => {
  const lib = parseRustSource(fixture('rust/kernel/lib.rs'));
  assert.deepEqual(
    lib.publicItems.map((item) => [item.description, item.cfg]),
    [
      ['module sync', null],
      ['module net', 'CONFIG_NET'],
      ['module module_param', null],
      ['re-export sync::{Gadget, Widget}', null],
      ['function answer', null],
      ['macro widget!', null],
    ],
  );
});

test('proc macros are named as they are used: name! and #[name]', () => {
  const macros = parseRustSource(fixture('rust/macros/lib.rs'));
  assert.deepEqual(
    macros.items.map((item) => item.name),
    ['widget_module!', '#[widget_vtable]'],
  );
});

test('module paths come from the file path, lib.rs and mod.rs standing for their folder', () => {
  assert.deepEqual(rustModulePath('rust/kernel/lib.rs'), ['kernel']);
  assert.deepEqual(rustModulePath('rust/kernel/sync/mod.rs'), ['kernel', 'sync']);
  assert.deepEqual(rustModulePath('rust/kernel/module_param.rs'), ['kernel', 'module_param']);
  assert.deepEqual(rustModulePath('rust/macros/lib.rs'), ['macros']);
});

test('the min-tool-version table keeps defaults and notes every conditional version', () => {
  const script = fixture('scripts/min-tool-version.sh');
  assert.deepEqual(parseMinToolVersions(script), {
    binutils: '2.99.0',
    llvm: '29.0.0',
    rustc: '9.1.0',
    bindgen: '0.99.2',
  });
  const llvm = parseMinToolTable(script).tools.find((tool) => tool.tool === 'llvm');
  assert.deepEqual(llvm?.conditional, [
    { when: 'SRCARCH is sparc', version: '30.0.0' },
    { when: 'ARCH is um', version: '31.0.0' },
  ]);
  assert.deepEqual(parseMinToolTable('#!/bin/sh\necho 1.0.0\n'), { tools: [], lines: null });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type BootLimits, bootModule, readConsole } from '../jobs/boot.ts';
import { buildModule, type ModuleBuild } from '../jobs/build.ts';
import { cpioNewc, initScript } from '../jobs/initramfs.ts';
import type { PreparedTree } from '../jobs/kernel-tree.ts';
import { defaultConfig, preparedTree } from './helpers/prepared-tree.ts';

let tree: PreparedTree;
const builds: ModuleBuild[] = [];
const limits: BootLimits = {
  bootTimeoutSeconds: 30,
  memoryLimitMb: 2048,
  maxProcesses: 256,
  maxOutputKb: 1024,
};

before(async () => {
  tree = await preparedTree();
});
after(async () => {
  await Promise.all(builds.map((b) => b.cleanup()));
});

/** A 6.1 module whose init() runs `body` (which returns or diverges). */
function moduleWithInit(name: string, body: string): string {
  return `use kernel::prelude::*;
module! {
    type: M,
    name: b"${name}",
    author: b"rfl-onboard tests",
    description: b"boot test module",
    license: b"GPL",
}
struct M;
impl kernel::Module for M {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        ${body}
    }
}
`;
}

async function built(name: string, body: string): Promise<ModuleBuild> {
  const result = await buildModule({ source: moduleWithInit(name, body), fileName: `${name}.rs` }, tree, {
    limits: { ...defaultConfig().jobs, buildTimeoutSeconds: 120 },
  });
  builds.push(result);
  assert.equal(result.outcome, 'success', result.log);
  return result;
}

async function boot(ko: string, moduleName: string, overrides: Partial<BootLimits> = {}) {
  return bootModule({ tree, koPath: ko, moduleName, limits: { ...limits, ...overrides } });
}

test('newc archive: what the Debian cpio tool lists back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rfl-cpio-'));
  try {
    const archive = cpioNewc([
      { name: 'bin', mode: 0o040755 },
      { name: 'bin/odd-length-name', mode: 0o100755, data: Buffer.from('abc') },
      { name: 'init', mode: 0o100755, data: Buffer.from(initScript('hello')) },
    ]);
    writeFileSync(join(dir, 'a.cpio'), archive);
    const listing = execFileSync('cpio', ['-itv', '-F', join(dir, 'a.cpio')], { stdio: 'pipe' }).toString();
    assert.match(listing, /^drwxr-xr-x .* bin$/m);
    assert.match(listing, /^-rwxr-xr-x .* 3 .* bin\/odd-length-name$/m);
    execFileSync('cpio', ['-id', '-F', join(dir, 'a.cpio')], { cwd: dir, stdio: 'pipe' });
    assert.match(execFileSync('cat', [join(dir, 'init')]).toString(), /insmod \/hello\.ko/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('console reading: a C oops and an insmod refusal are told apart from a clean run', () => {
  const oops = readConsole(
    '[    1.0] BUG: kernel NULL pointer dereference, address: 0000000000000000\r\n[    1.1] RIP: 0010:x+0x1\r\n' +
      '[    1.2] Kernel panic - not syncing: Fatal exception\r\n',
    'm',
  );
  assert.equal(oops.verdict, 'oops');
  assert.ok(oops.moduleLines.some((l) => l.startsWith('RIP:')));
  const refused = readConsole(
    "rfl-boot: userspace\ninsmod: can't insert '/m.ko': invalid module format\nrfl-boot: insmod failed (1)\nrfl-boot: done\n",
    'm',
  );
  assert.equal(refused.verdict, 'insmod-failed');
  assert.deepEqual(refused.moduleLines.slice(0, 1), ["insmod: can't insert '/m.ko': invalid module format"]);
});

test('the in-tree rust_minimal sample loads and unloads cleanly, with its init and exit lines', async () => {
  assert.ok(tree.sampleModules.includes('rust_minimal'));
  const ko = join(tree.buildDir, 'samples', 'rust', 'rust_minimal.ko');
  const result = await boot(ko, 'rust_minimal');
  assert.equal(result.outcome, 'success', result.console);
  assert.equal(result.verdict, 'clean');
  assert.deepEqual(result.moduleLines, [
    'rust_minimal: Rust minimal sample (init)',
    'rust_minimal: Am I built-in? false',
    'rust_minimal: My numbers are [72, 108, 200]',
    'rust_minimal: Rust minimal sample (exit)',
  ]);
  assert.ok(result.durationMs < limits.bootTimeoutSeconds * 1000);
});

test('a module that panics in init is reported as a panic, with the panic message', async () => {
  const module = await built('boom', 'pr_info!("about to panic\\n");\n        panic!("boom at init");');
  const result = await boot(module.koPath as string, 'boom');
  assert.equal(result.outcome, 'boot-failure', result.console);
  assert.equal(result.verdict, 'panic');
  assert.ok(result.moduleLines.includes('boom: about to panic'), result.moduleLines.join('\n'));
  assert.ok(
    result.moduleLines.some((l) => /panicked at .*boom at init/.test(l)),
    result.moduleLines.join('\n'),
  );
});

test('a module that spins forever in init is reported as a hang within the boot limit', async () => {
  const module = await built('spin', 'pr_info!("spinning\\n");\n        loop { core::hint::spin_loop(); }');
  const result = await boot(module.koPath as string, 'spin', { bootTimeoutSeconds: 8 });
  assert.equal(result.outcome, 'boot-failure', result.console);
  assert.equal(result.verdict, 'hang');
  assert.equal(result.limitHit, 'wall');
  assert.ok(result.moduleLines.includes('spin: spinning'));
  assert.ok(result.durationMs < 11_000, `took ${result.durationMs} ms`);
});

test('a module that floods the kernel log is cut at the output limit and reported', async () => {
  const module = await built(
    'flood',
    'for i in 0..1_000_000u32 { pr_info!("flood line {} with some padding text\\n", i); }\n        Ok(M)',
  );
  const result = await boot(module.koPath as string, 'flood', { maxOutputKb: 64 });
  assert.equal(result.outcome, 'limit', result.console.slice(-500));
  assert.equal(result.limitHit, 'output');
  assert.ok(result.console.length < 70 * 1024);
  assert.match(result.message ?? '', /floods the log/);
  assert.ok(result.moduleLines.some((l) => l.startsWith('flood: flood line')));
});

test('a module that dereferences a null pointer in init is reported as an oops, with the oops lines', async () => {
  const module = await built(
    'nullread',
    'pr_info!("reading through a null pointer\\n");\n' +
      '        let byte = unsafe { core::ptr::read_volatile(core::ptr::null::<u8>()) };\n' +
      '        pr_info!("read {}\\n", byte);\n' +
      '        Ok(M)',
  );
  const result = await boot(module.koPath as string, 'nullread');
  assert.equal(result.outcome, 'boot-failure', result.console);
  assert.equal(result.verdict, 'oops', result.moduleLines.join('\n'));
  const lines = result.moduleLines.join('\n');
  assert.ok(result.moduleLines.includes('nullread: reading through a null pointer'), lines);
  assert.ok(!result.moduleLines.some((l) => l.startsWith('nullread: read ')), 'init went no further');
  assert.match(lines, /^BUG: kernel NULL pointer dereference, address: 0+$/m);
  assert.match(lines, /^Oops: /m);
  // tinyconfig has no kallsyms: the faulting instruction is an address in the module area.
  assert.match(lines, /^RIP: 0010:0xffffffffa[0-9a-f]+$/m);
  assert.match(lines, /^Kernel panic - not syncing: Fatal exception/m, 'oops=panic ends the guest at once');
});

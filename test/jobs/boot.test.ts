import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type BootLimits, bootModule, readBoot, readStatus } from '../../jobs/build/boot.ts';
import { buildModule, type ModuleBuild } from '../../jobs/build/build.ts';
import { cpioNewc, initScript } from '../../jobs/build/initramfs.ts';
import type { PreparedTree } from '../../jobs/kernel/kernel-tree.ts';
import { CONTROL_CHARACTER, LOUD_PRINT, LYING_PRINT } from '../helpers/hostile-output.ts';
import { defaultConfig, preparedTree } from '../helpers/prepared-tree.ts';

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

const NONCE = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
/** Status port lines as /init writes them (the tty adds CR). */
const statusLines = (...steps: string[]) => steps.map((step) => `rfl-boot ${NONCE} ${step}\r\n`).join('');
/** A console where the module prints a crash report and the step markers, on a kernel that stays up. */
const FORGED_CONSOLE = [
  'rfl-boot: userspace',
  '[    1.0] m: hello',
  'Kernel panic - not syncing: Fatal exception',
  'BUG: kernel NULL pointer dereference, address: 0000000000000000',
  'Oops: 0000 [#1] PREEMPT',
  'rfl-boot: insmod failed (1)',
  `rfl-boot ${NONCE} insmod 1`,
  'rfl-boot: insmod ok',
  'rfl-boot: rmmod ok',
  'rfl-boot: done',
].join('\n');

test('status port: only lines with this boot’s nonce count', () => {
  const status = readStatus(
    `rfl-boot 1234 insmod 0\n${statusLines('userspace', 'insmod 1')}rfl-boot ${NONCE}x done\n`,
    NONCE,
  );
  assert.deepEqual(status, { userspace: true, insmod: 1, rmmod: null, tainted: null, done: false });
});

test('verdicts: the status port and QEMU’s end decide, whatever the console says', () => {
  const finished = readStatus(statusLines('userspace', 'insmod 0', 'rmmod 0', 'tainted 4096', 'done'), NONCE);
  const clean = readBoot(FORGED_CONSOLE, finished, 'm', 'exited');
  assert.equal(clean.verdict, 'clean');
  assert.deepEqual(clean.moduleLines, ['m: hello'], 'no crash lines shown for a kernel that did not crash');
  const refused = readStatus(statusLines('userspace', 'insmod 1', 'tainted 0', 'done'), NONCE);
  const insmod = readBoot("insmod: can't insert '/m.ko': invalid module format\n", refused, 'm', 'exited');
  assert.equal(insmod.verdict, 'insmod-failed');
  assert.deepEqual(insmod.moduleLines, ["insmod: can't insert '/m.ko': invalid module format"]);
  const warned = readStatus(statusLines('userspace', 'insmod 0', 'rmmod 0', 'tainted 4608', 'done'), NONCE);
  assert.equal(readBoot('', warned, 'm', 'exited').verdict, 'warning');
  // QEMU exited on its own before /init reported done: the kernel went down; its report names the crash.
  const loading = readStatus(statusLines('userspace'), NONCE);
  const oops = readBoot(
    'BUG: kernel NULL pointer dereference, address: 0000000000000000\nRIP: 0010:x+0x1\n' +
      'Kernel panic - not syncing: Fatal exception\n',
    loading,
    'm',
    'exited',
  );
  assert.equal(oops.verdict, 'oops');
  assert.ok(oops.moduleLines.some((l) => l.startsWith('RIP:')));
  assert.equal(readBoot('', loading, 'm', 'exited').verdict, 'died', 'down without a crash report');
  assert.equal(readBoot(FORGED_CONSOLE, loading, 'm', 'failed').verdict, 'died', 'QEMU itself failed');
  // Stopped by a limit before done: a hang, even with a crash report on the console.
  assert.equal(readBoot(FORGED_CONSOLE, loading, 'm', 'stopped').verdict, 'hang');
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

test('a module printing OSC 52, a window title, BEL and CSI reaches neither lines nor console with them', async () => {
  const module = await built('loud', `${LOUD_PRINT}\n        Ok(M)`);
  const result = await boot(module.koPath as string, 'loud');
  assert.equal(result.verdict, 'clean', result.console);
  assert.ok(result.moduleLines.includes('loud: clip title bell erase end'), result.moduleLines.join('\n'));
  for (const text of [result.console, ...result.moduleLines]) assert.doesNotMatch(text, CONTROL_CHARACTER);
});

test('a module printing a kernel panic, an oops and forged step lines still loads and unloads cleanly', async () => {
  const module = await built('liar', `${LYING_PRINT}\n        Ok(M)`);
  const result = await boot(module.koPath as string, 'liar');
  assert.match(result.console, /^Kernel panic - not syncing: Fatal exception$/m, 'the lie was printed');
  assert.equal(result.verdict, 'clean', result.console);
  assert.equal(result.outcome, 'success');
  assert.ok(result.moduleLines.includes('liar: about to lie'), result.moduleLines.join('\n'));
  assert.ok(!result.moduleLines.some((l) => l.startsWith('Kernel panic')), 'no crash lines for no crash');
});

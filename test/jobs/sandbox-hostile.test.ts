/**
 * Hostile modules and commands against the sandbox's view of the host: files the toolchain does not need
 * (a canary under /usr/local), the host's /proc, and the system calls the seccomp filter refuses. Builds
 * use the real prepared tree, as a user's module would.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type BuildOptions, buildModule, type ModuleBuild } from '../../jobs/build/build.ts';
import { minimalModule } from '../../jobs/build/module-template.ts';
import type { PreparedTree } from '../../jobs/kernel/kernel-tree.ts';
import { runSandboxed, type SandboxSpec } from '../../jobs/sandbox/sandbox.ts';
import { defaultConfig, preparedTree } from '../helpers/prepared-tree.ts';

let tree: PreparedTree;
let options: BuildOptions;
const builds: ModuleBuild[] = [];
const work = mkdtempSync(join(tmpdir(), 'rfl-hostile-test-'));
/** Where an operator keeps local software and settings: not part of any toolchain. */
const canary = `/usr/local/etc/rfl-canary-${process.pid}.conf`;
const CANARY_TEXT = 'rfl_canary_secret_5e7b19';

before(async () => {
  tree = await preparedTree();
  options = { limits: { ...defaultConfig().jobs, buildTimeoutSeconds: 120 } };
  mkdirSync('/usr/local/etc', { recursive: true });
  writeFileSync(canary, `${CANARY_TEXT} = 1\n`);
});
after(async () => {
  rmSync(canary, { force: true });
  await Promise.all(builds.map((b) => b.cleanup()));
  rmSync(work, { recursive: true, force: true });
});

async function build(source: string): Promise<ModuleBuild> {
  const result = await buildModule({ source, fileName: 'hello.rs' }, tree, options);
  builds.push(result);
  return result;
}

function withInit(statement: string, topLevel = ''): string {
  return minimalModule('6.1').replace('pr_info!("Hello', `${statement}\n        pr_info!("Hello`) + topLevel;
}

function assertNotRead(result: ModuleBuild) {
  assert.equal(result.outcome, 'compile-error', `${result.outcome}\n${result.log}`);
  assert.match(result.log, /No such file|couldn't read|could not find/i);
  for (const text of [result.log, result.firstErrors, result.message ?? '']) {
    assert.doesNotMatch(text, new RegExp(CANARY_TEXT));
  }
}

const limits = {
  wallSeconds: 20,
  cpuSeconds: 20,
  memoryMb: 256,
  processes: 32,
  fileSizeMb: 8,
  outputBytes: 64 * 1024,
};

function sh(script: string, overrides: Partial<SandboxSpec> = {}) {
  return runSandboxed({
    command: ['sh', '-c', script],
    readOnly: [],
    scratch: mkdtempSync(join(work, 'scratch-')),
    limits,
    ...overrides,
  });
}

test('include_str! of a file under /usr/local fails to read it, and no reply or log shows it', async () => {
  // Before, all of /usr was bound: the const panic printed the file.
  const result = await build(withInit('', `\nconst _: () = panic!("{}", include_str!("${canary}"));\n`));
  assertNotRead(result);
});

test('global_asm! .include of a file under /usr/local fails without quoting its lines', async () => {
  // Before, the assembler read it and quoted each line it could not parse.
  const result = await build(withInit('', `\ncore::arch::global_asm!(".include \\"${canary}\\"");\n`));
  assertNotRead(result);
});

test("/proc inside shows nothing of the host: no kernel command line, symbols or bind sources' paths", async () => {
  const cacheLike = mkdtempSync(join(work, 'cache-trees-'));
  chmodSync(cacheLike, 0o755);
  writeFileSync(join(cacheLike, 'Makefile'), 'all:\n');
  writeFileSync(join(cacheLike, 'bzImage'), 'image');
  const run = await sh(
    'cat /proc/cmdline; wc -c < /proc/kallsyms; cat /proc/self/mountinfo /proc/mounts; cat /kernel/src/Makefile /kernel/bzImage',
    {
      readOnly: [
        { host: cacheLike, inside: '/kernel/src' },
        { host: join(cacheLike, 'bzImage'), inside: '/kernel/bzImage' },
      ],
    },
  );
  // The binds still work.
  assert.match(run.output, /^all:\nimage/m, run.output.slice(-500));
  const hostCmdline = readFileSync('/proc/cmdline', 'utf8').trim();
  assert.ok(!run.output.includes(hostCmdline), run.output);
  assert.ok(!run.output.includes(cacheLike), run.output);
  assert.match(run.output, / \/kernel\/src /);
  assert.doesNotMatch(run.output, /^[1-9]\d*$/m, 'kallsyms has content');
});

test('the command runs under a seccomp filter: ptrace, keyctl, io_uring, unshare and personas fail with EPERM', async () => {
  const perl = (name: string, call: string) =>
    `perl -e '$b = "\\0" x 256; print "${name}: ", (${call}) >= 0 ? "ALLOWED" : "$!", "\\n"'`;
  const run = await sh(
    [
      'grep Seccomp: /proc/self/status',
      perl('ptrace', 'syscall(101, 0, 0, 0, 0)'),
      perl('keyctl', 'syscall(250, 0, -3, 0)'),
      perl('io_uring', 'syscall(425, 1, $b)'),
      'unshare -r true',
      // Turning off address-space randomization is a persona; plain Linux stays allowed.
      'setarch -R true',
      'setarch x86_64 true && echo LINUX-PERSONA-OK',
    ].join('; '),
  );
  assert.match(run.output, /^Seccomp:\s+2$/m);
  for (const name of ['ptrace', 'keyctl', 'io_uring']) {
    assert.match(run.output, new RegExp(`^${name}: Operation not permitted$`, 'm'), run.output);
  }
  assert.match(run.output, /unshare failed: Operation not permitted/);
  assert.match(run.output, /setarch: failed to set personality.*Operation not permitted/);
  assert.match(run.output, /LINUX-PERSONA-OK/);
  assert.equal(run.limitHit, null);
});

test('a system call through the x32 ABI kills the process', async () => {
  // x32's getpid: another ABI whose numbers the filter's list does not describe.
  const run = await sh(`perl -e 'syscall(0x40000027); print "SURVIVED\\n"'; echo "status $?"`);
  assert.doesNotMatch(run.output, /SURVIVED/);
  assert.match(run.output, /status 159/, run.output); // 128 + SIGSYS
});

test('still held: no bot environment, no /tmp, /etc/hostname or /proc/1 of the host, /dev/zero stops', async () => {
  process.env.RFL_FAKE_TOKEN = 'tok-hostile-env-6d02';
  writeFileSync(join(tmpdir(), `rfl-host-tmp-${process.pid}`), 'host-tmp-secret-31f8');
  after(() => rmSync(join(tmpdir(), `rfl-host-tmp-${process.pid}`), { force: true }));
  const env = await build(
    withInit(
      '',
      '\nconst _: () = match option_env!("RFL_FAKE_TOKEN") { Some(t) => panic!("{}", t), None => panic!("no bot token") };\n',
    ),
  );
  assert.match(env.log, /no bot token/);
  assert.doesNotMatch(env.log, /tok-hostile-env/);
  const files = await build(
    withInit(
      `let _t = include_str!("/tmp/rfl-host-tmp-${process.pid}");\n        let _h = include_str!("/etc/hostname");\n        let _e = include_str!("/proc/1/environ");`,
    ),
  );
  assert.equal(files.outcome, 'compile-error', files.log);
  assert.equal(files.errors, 3, files.log);
  assert.doesNotMatch(files.log, /host-tmp-secret|tok-hostile-env/);
  const zero = await build(withInit('let _z = include_bytes!("/dev/zero");'));
  // rustc reads the endless file into memory: the run-wide memory limit stops it.
  assert.equal(zero.limitHit, 'memory', zero.log);
  assert.equal(zero.koPath, null);
});

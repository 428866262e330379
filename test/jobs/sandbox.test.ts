import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import {
  runSandboxed,
  SANDBOX_UID_BASE,
  SANDBOX_UID_SLOTS,
  type SandboxLimits,
  type SandboxSpec,
} from '../../jobs/sandbox/sandbox.ts';

const work = mkdtempSync(join(tmpdir(), 'rfl-sandbox-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

const limits: SandboxLimits = {
  wallSeconds: 20,
  cpuSeconds: 20,
  memoryMb: 256,
  processes: 32,
  fileSizeMb: 8,
  outputBytes: 64 * 1024,
};

function sh(
  script: string,
  overrides: Partial<SandboxSpec> = {},
  limitOverrides: Partial<SandboxLimits> = {},
) {
  return runSandboxed({
    command: ['sh', '-c', script],
    readOnly: [],
    scratch: mkdtempSync(join(work, 'scratch-')),
    limits: { ...limits, ...limitOverrides },
    ...overrides,
  });
}

test('the command runs as an unprivileged user in /work with only the environment it was given', async () => {
  process.env.RFL_FAKE_TOKEN = 'tok-parent-env-3f9a';
  const run = await sh('id -u; pwd; env; cat /proc/self/environ', { env: { GREETING: 'hi' } });
  assert.equal(run.exitCode, 0, run.output);
  const [uid, cwd] = run.output.split('\n');
  assert.notEqual(uid, '0');
  assert.equal(cwd, '/work');
  assert.match(run.output, /GREETING=hi/);
  assert.doesNotMatch(run.output, /tok-parent-env-3f9a/);
  assert.equal(run.limitHit, null);
});

test('host secrets, the project and root-only files are not reachable', async () => {
  const secretDir = mkdtempSync(join(work, 'outside-'));
  writeFileSync(join(secretDir, 'secret.txt'), 'secret-outside-scratch-77c1');
  const project = resolve('package.json');
  const run = await sh(
    `cat /etc/shadow; cat /etc/passwd; ls /root; cat ${project}; cat ${secretDir}/secret.txt; cat /proc/1/environ`,
  );
  assert.doesNotMatch(run.output, /root:|secret-outside-scratch|rfl-onboard|tok-/);
  assert.match(run.output, /shadow: No such file/);
  const top = await sh('ls /');
  assert.deepEqual(top.output.trim().split('\n'), [
    'bin',
    'dev',
    'etc',
    'lib',
    'lib64',
    'proc',
    'tmp',
    'usr',
    'work',
  ]);
});

test('read-only binds, the system directories and everything outside /work cannot be written', async () => {
  const tree = mkdtempSync(join(work, 'tree-'));
  writeFileSync(join(tree, 'Makefile'), 'all:\n');
  const run = await sh('echo x > /kernel/Makefile; touch /kernel/new /usr/new /new; echo ok > /work/ok', {
    readOnly: [{ host: tree, inside: '/kernel' }],
  });
  const refusals = run.output.match(/Read-only file system|Permission denied/g) ?? [];
  assert.equal(refusals.length, 4, run.output);
  assert.equal(readFileSync(join(tree, 'Makefile'), 'utf8'), 'all:\n');
  assert.equal(existsSync(join(tree, 'new')), false);
  assert.equal(existsSync('/usr/new'), false);
});

test('there is no network: a TCP connection to the host loopback fails', async () => {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  const run = await sh(`bash -c 'echo hello > /dev/tcp/127.0.0.1/${port}' && echo CONNECTED`);
  server.close();
  assert.doesNotMatch(run.output, /CONNECTED/);
  assert.match(run.output, /Connection refused|Network is unreachable/);
  assert.equal(connections, 0);
});

test('no nested user namespace: unshare fails, so no unsized tmpfs can be mounted over /tmp', async () => {
  // Before the fix, `unshare -Urm` made the sandbox user root over a new mount namespace: a tmpfs the size
  // of host RAM at /tmp, past the scratch cap.
  const run = await sh(
    "unshare -U true && echo USERNS-OK; unshare -Urm sh -c 'mount -t tmpfs none /tmp && echo MOUNTED'; " +
      'unshare -Ur true && echo ROOT-MAP-OK; df -k /tmp | tail -1; echo END',
  );
  assert.equal(run.exitCode, 0, run.output);
  assert.doesNotMatch(run.output, /USERNS-OK|MOUNTED|ROOT-MAP-OK/);
  assert.match(run.output, /unshare failed/);
  // /tmp is still the sized tmpfs.
  const size = /^\S+\s+(\d+)\s/m.exec(run.output.split('\n').find((line) => /\/tmp$/.test(line)) ?? '');
  assert.equal(Number(size?.[1]), limits.fileSizeMb * 1024, run.output);
  // The refusal (ENOSPC from the namespace count) is not mistaken for the disk limit.
  assert.equal(run.limitHit, null);
  const plain = await sh('unshare -U true');
  assert.notEqual(plain.exitCode, 0, plain.output);
  assert.equal(plain.limitHit, null);
  // Nor from a program calling unshare(2) itself rather than through the tool (the seccomp filter), or
  // clone(2) with CLONE_NEWUSER | SIGCHLD (the namespace count).
  const direct = await sh(
    `perl -e 'print syscall(272, 0x10000000) == 0 ? "UNSHARED\n" : "unshare refused: $!\n"; ` +
      `my $pid = syscall(56, 0x10000011, 0, 0, 0, 0); exit 0 if $pid == 0; ` +
      `print $pid > 0 ? "CLONED\n" : "clone refused: $!\n"'`,
  );
  assert.match(direct.output, /unshare refused: Operation not permitted/);
  assert.match(direct.output, /clone refused: No space left on device/);
  assert.equal(direct.limitHit, null);
});

test('wall time: the whole process group is killed', async () => {
  const started = Date.now();
  const run = await sh('sleep 97 & sleep 98', {}, { wallSeconds: 1 });
  assert.equal(run.limitHit, 'wall');
  assert.ok(Date.now() - started < 5000);
  await new Promise((done) => setTimeout(done, 200));
  const leftovers = readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => {
      try {
        const [command, seconds] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return command === 'sleep' && (seconds === '97' || seconds === '98');
      } catch {
        return false;
      }
    });
  assert.deepEqual(leftovers, []);
});

test('CPU time, memory, processes and file size limits each stop the command and say which', async () => {
  const cpu = await sh('while :; do :; done', {}, { cpuSeconds: 1 });
  assert.equal(cpu.limitHit, 'cpu');
  const memory = await sh(`perl -e '$x = "a" x 400_000_000; print length $x'`, {}, { memoryMb: 64 });
  assert.equal(memory.limitHit, 'memory');
  assert.doesNotMatch(memory.output, /400000000/);
  const processes = await sh('for i in $(seq 40); do sleep 3 & done; wait', {}, { processes: 16 });
  assert.equal(processes.limitHit, 'processes');
  const bigFile = await sh('head -c 20000000 /dev/zero > /work/big', {}, { fileSizeMb: 4 });
  assert.equal(bigFile.limitHit, 'file-size');
});

test('memory is limited for the run as a whole: four processes of 200 MB under a 256 MB limit are stopped', async () => {
  // Each dd fits the per-process address-space limit (RLIMIT_AS, 256 MB), touches a 200 MB buffer and then
  // blocks writing it into a pipe nobody reads: 800 MB resident across the run. Before the run-wide
  // watchdog this slept to the end unnoticed (exit 0, no limit).
  const started = Date.now();
  const run = await sh(
    'for i in 1 2 3 4; do (dd if=/dev/zero bs=200M count=1 status=none | sleep 15) & done; wait; echo SURVIVED',
    {},
    { memoryMb: 256, wallSeconds: 20 },
  );
  assert.equal(run.limitHit, 'memory', run.output);
  assert.doesNotMatch(run.output, /SURVIVED/);
  assert.ok(Date.now() - started < 8000, `${Date.now() - started} ms`);
  // Daemonized (setsid, parent gone, reparented to the sandbox's pid 1) processes are counted too.
  const daemons = await sh(
    "for i in 1 2 3 4; do setsid sh -c '(dd if=/dev/zero bs=200M count=1 status=none | sleep 15) &'; done; sleep 15",
    {},
    { memoryMb: 256, wallSeconds: 20 },
  );
  assert.equal(daemons.limitHit, 'memory', daemons.output);
  assert.ok(daemons.durationMs < 8000, `${daemons.durationMs} ms`);
  // Processes that stay under the limit together are left alone.
  const fits = await sh(
    'for i in 1 2; do (dd if=/dev/zero bs=80M count=1 status=none | sleep 2) & done; wait; echo FITS',
    {},
    { memoryMb: 256 },
  );
  assert.equal(fits.limitHit, null, fits.output);
  assert.match(fits.output, /FITS/);
});

test("each run has its own uid: one run's fork bomb or inotify hog does not starve a concurrent run", async () => {
  // Both runs get 32 processes. The first forks until its budget is full, says so and keeps it full (exec
  // needs no fork); meanwhile the other starts 24 sleepers and waits for them. Before per-run uids all
  // sandboxes ran as 65534, and whatever the kernel counts per uid machine-wide was one shared budget.
  const bomb = sh(
    'while (sleep 10 &) 2>/dev/null; do :; done; echo FULL; exec sleep 10',
    {},
    { wallSeconds: 4 },
  );
  await new Promise((done) => setTimeout(done, 1000));
  const busy = await sh('for i in $(seq 24); do sleep 1 & done; wait && echo ALL-FORKED; id -u');
  const bombed = await bomb;
  assert.match(bombed.output, /FULL/);
  assert.equal(bombed.limitHit, 'wall', bombed.output);
  assert.equal(busy.exitCode, 0, busy.output);
  assert.equal(busy.limitHit, null, busy.output);
  assert.match(busy.output, /ALL-FORKED/);

  // inotify instances (fs.inotify.max_user_instances, 128 by default) are counted per uid across user
  // namespaces: with a shared uid, one run holding them all made inotify_init fail in every other run.
  const inotifyInit = { x64: 294, arm64: 26 }[process.arch as 'x64' | 'arm64'];
  if (inotifyInit) {
    const hog = sh(
      `id -u; perl -e '$| = 1; my $n = 0; $n++ while syscall(${inotifyInit}, 0) >= 0; print "hog: $n\n"; sleep 4'`,
      {},
      { wallSeconds: 3 },
    );
    await new Promise((done) => setTimeout(done, 1000));
    const other = await sh(
      `id -u; perl -e 'print syscall(${inotifyInit}, 0) >= 0 ? "INOTIFY-OK\n" : "inotify failed: $!\n"'`,
    );
    const hogged = await hog;
    assert.match(hogged.output, /hog: \d+/);
    assert.match(other.output, /INOTIFY-OK/);
    const uids = [hogged, other, busy].map((run) => Number(run.output.match(/^\d+$/m)?.[0]));
    assert.equal(new Set(uids).size, 3, `${uids}`);
    for (const uid of uids) {
      assert.ok(uid >= SANDBOX_UID_BASE && uid < SANDBOX_UID_BASE + SANDBOX_UID_SLOTS, `${uid}`);
    }
  }
});

test('a fork bomb is contained: the process limit stops it and nothing of it outlives the run', async () => {
  const started = Date.now();
  const run = await sh('rflbomb() { rflbomb | rflbomb; }; rflbomb', {}, { processes: 32, wallSeconds: 5 });
  assert.ok(run.limitHit === 'processes' || run.limitHit === 'wall', `${run.limitHit}\n${run.output}`);
  assert.ok(Date.now() - started < 8000);
  await new Promise((done) => setTimeout(done, 200));
  const leftovers = readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('rflbomb');
      } catch {
        return false;
      }
    });
  assert.deepEqual(leftovers, []);
});

test('many files under the per-file limit still hit the scratch size cap', async () => {
  const run = await sh(
    'for i in 1 2 3 4 5 6; do head -c 3000000 /dev/zero > /work/f$i; done; sleep 10',
    {},
    {
      fileSizeMb: 4,
    },
  );
  assert.equal(run.limitHit, 'file-size');
  assert.ok(run.durationMs < 5000);
});

test('output beyond the cap is cut with a marker and the command stopped', async () => {
  const run = await sh('yes', {}, { outputBytes: 10_000 });
  assert.equal(run.limitHit, 'output');
  assert.equal(run.truncated, true);
  assert.match(run.output, /\[output cut at 10000 bytes\]\n$/);
  assert.ok(run.output.length < 10_100);
});

test('an abort signal stops the run and reports it as cancelled', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  const run = await sh('sleep 30', { signal: controller.signal });
  assert.equal(run.cancelled, true);
  assert.equal(run.limitHit, null);
  assert.ok(run.durationMs < 3000);
});

test('a bind that cannot be made is our failure, not an unsandboxed run', async () => {
  const run = await sh('echo ran', { readOnly: [{ host: join(work, 'missing'), inside: '/kernel' }] });
  assert.match(run.infrastructure ?? '', /sandbox could not start/);
  assert.doesNotMatch(run.output, /^ran/m);
});

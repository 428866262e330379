/**
 * A real Synapse on loopback for the Matrix tests: installed from PyPI into a virtualenv under the cache
 * dir (once; later runs reuse it), configured for this test file alone (sqlite, no federation, no presence,
 * no open registration), started, and able to register users with the shared secret and to restart.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ClientEvent,
  createClient,
  EventType,
  type MatrixClient,
  type MatrixEvent,
  RoomEvent,
  SyncState,
  type TimelineEvents,
} from 'matrix-js-sdk';
import { freePort } from './redis.ts';

const run = promisify(execFile);

const CACHE_DIR =
  process.env.RFL_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'rfl-onboard');
/** The homeserver the tests were written against; a newer one is taken deliberately, by changing this. */
const SYNAPSE_VERSION = '1.163.2';
export const SYNAPSE_VENV = join(CACHE_DIR, `synapse-venv-${SYNAPSE_VERSION}`);
/** Present once the install finished: a half-built venv is never mistaken for a usable one. */
const INSTALLED_MARK = 'rfl-onboard-installed';
const START_TIMEOUT_MS = 60_000;

export interface RegisteredUser {
  userId: string;
  accessToken: string;
  deviceId: string;
  password: string;
}

export interface Synapse {
  baseUrl: string;
  serverName: string;
  /** Registers a user through the shared-secret admin API; logged in as a fresh device. */
  register(localpart: string, options?: { admin?: boolean }): Promise<RegisteredUser>;
  /** Per-user message rate (admin API); a test that wants M_LIMIT_EXCEEDED lowers it for one user. */
  limitMessages(userId: string, perSecond: number, burst: number): Promise<void>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** The homeserver process stopped (its data kept) until `resume`: clients see it gone. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Where the homeserver's own output goes, for a failing test to look at. */
  logFile: string;
}

/** The venv with matrix-synapse in it, installing it when missing. Built beside and renamed into place. */
export async function ensureSynapseVenv(): Promise<string> {
  if (existsSync(join(SYNAPSE_VENV, INSTALLED_MARK))) return SYNAPSE_VENV;
  mkdirSync(CACHE_DIR, { recursive: true });
  const building = `${SYNAPSE_VENV}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  await run('python3', ['-m', 'venv', building]);
  await run(
    join(building, 'bin/python'),
    ['-m', 'pip', 'install', '--quiet', `matrix-synapse==${SYNAPSE_VERSION}`],
    {
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  writeFileSync(join(building, INSTALLED_MARK), `${new Date().toISOString()}\n`);
  try {
    // `python -m` finds the venv from the interpreter's location, so the renamed venv still works.
    renameSync(building, SYNAPSE_VENV);
  } catch {
    // Another test file installed it at the same time: theirs is as good as ours.
    rmSync(building, { recursive: true, force: true });
  }
  return SYNAPSE_VENV;
}

function homeserverConfig(dir: string, port: number, sharedSecret: string) {
  const generous = { per_second: 1000, burst_count: 1000 };
  return {
    server_name: 'localhost',
    public_baseurl: `http://127.0.0.1:${port}/`,
    pid_file: join(dir, 'homeserver.pid'),
    listeners: [
      {
        port,
        bind_addresses: ['127.0.0.1'],
        type: 'http',
        tls: false,
        x_forwarded: false,
        resources: [{ names: ['client'], compress: false }],
      },
    ],
    database: { name: 'sqlite3', args: { database: join(dir, 'homeserver.db') } },
    media_store_path: join(dir, 'media'),
    signing_key_path: join(dir, 'signing.key'),
    registration_shared_secret: sharedSecret,
    enable_registration: false,
    report_stats: false,
    presence: { enabled: false },
    federation_domain_whitelist: [],
    trusted_key_servers: [],
    suppress_key_server_warning: true,
    enable_authenticated_media: true,
    url_preview_enabled: false,
    rc_message: generous,
    rc_registration: generous,
    rc_login: { address: generous, account: generous, failed_attempts: generous },
    rc_joins: { local: generous, remote: generous },
    rc_joins_per_room: generous,
    rc_invites: { per_room: generous, per_user: generous, per_issuer: generous },
    rc_3pid_validation: generous,
    rc_admin_redaction: generous,
    rc_media_create: { per_second: 1000, burst_count: 1000 },
    rc_key_requests: generous,
    rc_delayed_event_mgmt: generous,
    rc_presence: { per_user: generous },
  };
}

async function waitForVersions(baseUrl: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`synapse exited with ${child.exitCode}; see ${logFile}`);
    const ok = await fetch(`${baseUrl}/_matrix/client/versions`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`synapse did not answer within ${START_TIMEOUT_MS} ms; see ${logFile}`);
}

async function requestJson(url: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok)
    throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** Starts a homeserver of this test file's own. Stop it in an `after` hook. */
export async function startSynapse(): Promise<Synapse> {
  const venv = await ensureSynapseVenv();
  const dir = mkdtempSync(join(tmpdir(), 'rfl-synapse-'));
  const port = await freePort();
  const sharedSecret = randomBytes(24).toString('hex');
  const configPath = join(dir, 'homeserver.yaml');
  // JSON is YAML: no YAML writer needed.
  writeFileSync(configPath, JSON.stringify(homeserverConfig(dir, port, sharedSecret), null, 2));
  const python = join(venv, 'bin/python');
  await run(python, ['-m', 'synapse.app.homeserver', '-c', configPath, '--generate-keys'], { cwd: dir });
  const baseUrl = `http://127.0.0.1:${port}`;
  const logFile = join(dir, 'synapse.log');
  let child: ChildProcess | null = null;
  let adminToken: string | null = null;

  async function start(): Promise<void> {
    const out = openSync(logFile, 'a');
    const started = spawn(python, ['-m', 'synapse.app.homeserver', '-c', configPath], {
      cwd: dir,
      stdio: ['ignore', out, out],
    });
    child = started;
    await waitForVersions(baseUrl, started, logFile);
  }

  async function stop(): Promise<void> {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    const killer = setTimeout(() => running.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  }

  async function register(localpart: string, options: { admin?: boolean } = {}): Promise<RegisteredUser> {
    const url = `${baseUrl}/_synapse/admin/v1/register`;
    const { nonce } = (await requestJson(url)) as { nonce: string };
    const password = randomBytes(12).toString('hex');
    const admin = options.admin === true;
    const mac = createHmac('sha1', sharedSecret)
      .update([nonce, localpart, password, admin ? 'admin' : 'notadmin'].join('\u0000'))
      .digest('hex');
    const body = await requestJson(url, {
      method: 'POST',
      body: JSON.stringify({ nonce, username: localpart, password, admin, mac }),
    });
    return {
      userId: body.user_id as string,
      accessToken: body.access_token as string,
      deviceId: body.device_id as string,
      password,
    };
  }

  async function limitMessages(userId: string, perSecond: number, burst: number): Promise<void> {
    adminToken ??= (await register(`admin-${randomBytes(4).toString('hex')}`, { admin: true })).accessToken;
    await requestJson(`${baseUrl}/_synapse/admin/v1/users/${encodeURIComponent(userId)}/override_ratelimit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ messages_per_second: perSecond, burst_count: burst }),
    });
  }

  await start();
  return {
    baseUrl,
    serverName: 'localhost',
    register,
    limitMessages,
    logFile,
    async stop() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await stop();
      await start();
    },
    pause: stop,
    resume: start,
  };
}

/** A request that went through a LossyProxy, with the status its client got (0: none, the connection dropped). */
export interface ProxiedRequest {
  method: string;
  path: string;
  status: number;
}

/** A loopback proxy in front of the homeserver that can lose a response after the homeserver acted on it. */
export interface LossyProxy {
  baseUrl: string;
  requests: ProxiedRequest[];
  /**
   * The next request matching is forwarded and answered by the homeserver, then the connection is dropped
   * instead of returning the answer: the client cannot know that its request took effect.
   */
  loseResponseNext(method: string, path: RegExp): void;
  close(): Promise<void>;
}

export async function startLossyProxy(targetBaseUrl: string): Promise<LossyProxy> {
  const requests: ProxiedRequest[] = [];
  const toLose: { method: string; path: RegExp }[] = [];
  const server = createServer((incoming, outgoing) => {
    const method = incoming.method ?? 'GET';
    const path = incoming.url ?? '/';
    const lose = toLose.findIndex((rule) => rule.method === method && rule.path.test(path));
    if (lose >= 0) toLose.splice(lose, 1);
    const upstream = httpRequest(
      `${targetBaseUrl}${path}`,
      { method, headers: incoming.headers },
      (answer) => {
        if (lose >= 0) {
          answer.resume();
          answer.on('end', () => {
            requests.push({ method, path, status: 0 });
            incoming.socket.destroy();
          });
          return;
        }
        requests.push({ method, path, status: answer.statusCode ?? 0 });
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    // The homeserver is down (paused): the client sees a gateway error, as behind a real reverse proxy.
    upstream.on('error', () => {
      requests.push({ method, path, status: 502 });
      if (!outgoing.headersSent) outgoing.writeHead(502).end();
    });
    incoming.pipe(upstream);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    loseResponseNext: (method, path) => {
      toLose.push({ method, path });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An event as a test looks at it: what a newcomer's client received. */
export interface SeenEvent {
  id: string;
  roomId: string;
  type: string;
  sender: string;
  stateKey: string | undefined;
  content: Record<string, unknown>;
}

/** A person on the homeserver, with a real matrix-js-sdk client: says things and waits for answers. */
export class Newcomer {
  readonly client: MatrixClient;
  readonly userId: string;
  readonly seen: SeenEvent[] = [];
  readonly #waiters = new Set<{
    match: (event: SeenEvent) => boolean;
    resolve: (event: SeenEvent) => void;
  }>();

  private constructor(client: MatrixClient, userId: string) {
    this.client = client;
    this.userId = userId;
  }

  static async start(synapse: Synapse, user: RegisteredUser, encrypted = false): Promise<Newcomer> {
    const client = createClient({
      baseUrl: synapse.baseUrl,
      userId: user.userId,
      accessToken: user.accessToken,
      deviceId: user.deviceId,
      logger: quietLogger,
    });
    if (encrypted) await client.initRustCrypto({ useIndexedDB: false });
    const newcomer = new Newcomer(client, user.userId);
    client.on(RoomEvent.Timeline, (event, room) => {
      if (room) newcomer.#record(event, room.roomId);
    });
    const prepared = new Promise<void>((resolve) => {
      client.on(ClientEvent.Sync, (state) => state === SyncState.Prepared && resolve());
    });
    await client.startClient({ initialSyncLimit: 0 });
    await prepared;
    return newcomer;
  }

  async #record(event: MatrixEvent, roomId: string): Promise<void> {
    if (event.isEncrypted()) await this.client.decryptEventIfNeeded(event);
    const seen: SeenEvent = {
      id: event.getId() ?? '',
      roomId,
      type: event.getType(),
      sender: event.getSender() ?? '',
      stateKey: event.getStateKey(),
      content: event.getContent(),
    };
    this.seen.push(seen);
    for (const waiter of this.#waiters) {
      if (waiter.match(seen)) {
        this.#waiters.delete(waiter);
        waiter.resolve(seen);
      }
    }
  }

  /** The first event (already seen or still to come) that matches; fails after `timeoutMs`. */
  waitFor(match: (event: SeenEvent) => boolean, timeoutMs = 20_000, what = 'an event'): Promise<SeenEvent> {
    const already = this.seen.find(match);
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (event: SeenEvent) => {
          clearTimeout(timer);
          resolve(event);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Sends a message event and returns its id. */
  async say(roomId: string, content: Record<string, unknown>): Promise<string> {
    const sent = await this.client.sendEvent(
      roomId,
      null,
      EventType.RoomMessage,
      content as unknown as TimelineEvents[EventType.RoomMessage],
    );
    return sent.event_id;
  }

  stop(): void {
    this.client.stopClient();
  }
}

const silent = () => {};
const quietLogger = {
  trace: silent,
  debug: silent,
  info: silent,
  warn: silent,
  error: silent,
  getChild: () => quietLogger,
};

/**
 * matrix-js-sdk arms a timer for each /sync request (up to 110 s) and never clears it (timeoutSignal in
 * http-api/utils.js), so a test file would linger that long after its last test. Long timers made from
 * here on no longer keep the process alive; short ones (test timeouts, retries) are untouched.
 */
export function unrefSdkRequestTimers(thresholdMs = 30_000): void {
  const original = globalThis.setTimeout;
  const patched = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer = original(callback, ms, ...args);
    if ((ms ?? 0) >= thresholdMs) timer.unref();
    return timer;
  }) as typeof setTimeout;
  globalThis.setTimeout = Object.assign(patched, original);
}

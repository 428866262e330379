/**
 * The operations endpoints on a local port: `/healthz` (the process runs), `/readyz` (every registered
 * dependency check passes, each within a timeout) and `/metrics` (config/metrics.ts, Prometheus text).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../config/logger.ts';
import { registry as defaultRegistry } from '../config/metrics.ts';

/** A dependency check: true when it is usable. A rejection or a timeout counts as failing. */
export type ReadinessCheck = () => Promise<boolean>;

export interface OpsServerOptions {
  /** 0 picks a free port (returned). */
  port: number;
  host?: string;
  checks: Record<string, ReadinessCheck>;
  log: Logger;
  /** How long one check may take before it counts as failing. */
  checkTimeoutMs?: number;
  registry?: Registry;
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

export type CheckState = 'ok' | 'failed' | 'error' | 'timeout';

const CHECK_TIMEOUT_MS = 2000;

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { host = '127.0.0.1', checks, log, checkTimeoutMs = CHECK_TIMEOUT_MS } = options;
  const registry = options.registry ?? defaultRegistry;
  let wasReady: boolean | null = null;

  async function readiness(): Promise<{ ready: boolean; checks: Record<string, CheckState> }> {
    const names = Object.keys(checks);
    const states = await Promise.all(names.map((name) => runCheck(checks[name]!, checkTimeoutMs)));
    const results = Object.fromEntries(names.map((name, i) => [name, states[i]!]));
    const ready = states.every((state) => state === 'ok');
    // Probes come often: only a change is logged.
    if (ready !== wasReady) {
      if (ready) log.info({ checks: results }, 'ready');
      else log.warn({ checks: results }, 'not ready');
      wasReady = ready;
    }
    return { ready, checks: results };
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://ops').pathname;
    const known = path === '/healthz' || path === '/readyz' || path === '/metrics';
    if (!known) return reply(response, 404, 'text/plain; charset=utf-8', 'not found\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      return reply(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    if (path === '/healthz') return reply(response, 200, 'text/plain; charset=utf-8', 'ok\n');
    if (path === '/readyz') {
      const body = await readiness();
      return reply(response, body.ready ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
    }
    return reply(response, 200, registry.contentType, await registry.metrics());
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log.error({ err: error, url: request.url }, 'ops endpoint failed');
      if (!response.headersSent) reply(response, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log.error({ err: error }, 'ops server error'));
  const { port } = server.address() as AddressInfo;
  log.info({ host, port }, 'ops endpoints listening (/healthz, /readyz, /metrics)');

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckState> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckState>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = (async (): Promise<CheckState> => ((await check()) ? 'ok' : 'failed'))().catch(
    (): CheckState => 'error',
  );
  try {
    return await Promise.race([outcome, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function reply(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  response.end(body);
}

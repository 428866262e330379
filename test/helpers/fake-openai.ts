/**
 * A loopback stand-in for an OpenAI-compatible endpoint: POST /v1/chat/completions answers from a
 * script of steps (text, delay, error status) and every request is recorded for assertions.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeStep =
  | { text: string; delayMs?: number }
  | { status: 429 | 500 | 503; delayMs?: number; message?: string };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, for "does this string appear anywhere" checks. */
  raw: string;
  body: { model?: string; messages?: { role: string; content: string }[] } & Record<string, unknown>;
}

export interface FakeOpenAi {
  /** Base URL to configure, ending in /v1. */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Requests consume the steps in order; the last step repeats. */
  script(...steps: FakeStep[]): void;
  close(): Promise<void>;
}

export async function startFakeOpenAi(): Promise<FakeOpenAi> {
  let steps: FakeStep[] = [{ text: 'OK [1]' }];
  let served = 0;
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        raw,
        body: raw ? JSON.parse(raw) : {},
      });
      const step = steps[Math.min(served++, steps.length - 1)]!;
      const timer = setTimeout(() => respond(step), step.delayMs ?? 0);
      res.on('close', () => clearTimeout(timer));
    });
    const respond = (step: FakeStep) => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      } else if ('status' in step) {
        // retry-after-ms keeps the client's retry back-off short in tests
        res.writeHead(step.status, { 'content-type': 'application/json', 'retry-after-ms': '10' }).end(
          JSON.stringify({
            error: { message: step.message ?? `fake ${step.status}`, type: 'server_error' },
          }),
        );
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion(step.text)));
      }
    };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    script(...next) {
      steps = next;
      served = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function completion(text: string) {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: 'fake-model',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}

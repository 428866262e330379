/**
 * The HTTP layer under the Zulip client: one API call is a request to /api/v1 with the bot's basic auth,
 * its JSON answer read as success or as a failure value carrying the JSON (checked by `code`). The rate
 * limit is honoured here, for every call alike: a 429 is tried again after its Retry-After, and
 * X-RateLimit-Remaining 0 holds all requests until X-RateLimit-Reset. A request that got no response is
 * told apart from one refused, since a POST without an answer may still have taken effect.
 */
import type { Failure, Result } from '../../../config/result.ts';
import { RATE_LIMIT_HIT } from './api-types.ts';

/** A form body: fields URL-encoded, or multipart for uploads. */
export type Body = Record<string, string | number | boolean> | FormData;

interface Response<T> {
  status: number;
  /** The JSON body: `result`, `msg`, `code` on errors, and the call's own fields. */
  json: T & { result?: string; msg?: string; code?: string; 'retry-after'?: number };
  retryAfterMs: number | null;
}

export interface ZulipHttpOptions {
  /** How many times a call refused with 429 is tried again after the server's wait. */
  rateLimitRetries: number;
  /** The wait before trying a 429 again when the server names none. */
  rateLimitWaitMs: number;
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export const failure = (logText: string, detail?: unknown): { ok: false; failure: Failure } => ({
  ok: false,
  failure: { userText: 'Zulip did not answer as expected; please try again in a moment.', logText, detail },
});

/** A request that got no response: the server may or may not have acted on it. */
class NoResponse extends Error {}

/** Whether `failure` is of a request that got no response (a POST may have taken effect). */
export const unanswered = (failure: Failure): boolean => failure.detail instanceof NoResponse;

export class ZulipHttp {
  readonly #origin: string;
  readonly #authorization: string;
  readonly #rateLimitRetries: number;
  readonly #rateLimitWaitMs: number;
  /** Set from X-RateLimit-Remaining 0 and X-RateLimit-Reset: no request is sent before then. */
  #quietUntil = 0;

  /** `origin`: the server's; `authorization`: the Authorization header's value (basic auth). */
  constructor(origin: string, authorization: string, options: ZulipHttpOptions) {
    this.#origin = origin;
    this.#authorization = authorization;
    this.#rateLimitRetries = options.rateLimitRetries;
    this.#rateLimitWaitMs = options.rateLimitWaitMs;
  }

  /** One API call, tried again after the server's wait when refused with 429; failures carry the JSON. */
  async call<T>(method: string, path: string, body?: Body, signal?: AbortSignal): Promise<Result<T>> {
    for (let attempt = 0; ; attempt++) {
      await sleep(this.#quietUntil - Date.now(), signal);
      const response = await this.#send<T>(method, path, body, signal);
      if (!response.ok) return response;
      const { status, json, retryAfterMs } = response.value;
      if (json.result === 'success') return { ok: true, value: json };
      const rateLimited = status === 429 || json.code === RATE_LIMIT_HIT;
      if (rateLimited && attempt < this.#rateLimitRetries) {
        this.#quietUntil = Math.max(this.#quietUntil, Date.now() + (retryAfterMs ?? this.#rateLimitWaitMs));
        continue;
      }
      return failure(
        `Zulip ${method} ${path.split('?')[0]}: ${status} ${json.code ?? ''} ${json.msg ?? ''}`,
        json,
      );
    }
  }

  async #send<T>(
    method: string,
    path: string,
    body?: Body,
    signal?: AbortSignal,
  ): Promise<Result<Response<T>>> {
    const url = `${this.#origin}/api/v1${path}`;
    const form = body instanceof FormData || body === undefined ? body : this.#urlEncoded(body);
    try {
      const response = await fetch(url, {
        method,
        headers: { authorization: this.#authorization },
        body: form,
        signal: signal ?? null,
      });
      this.#noteRateLimit(response.headers);
      const text = await response.text();
      let json: Response<T>['json'];
      try {
        json = JSON.parse(text);
      } catch {
        return failure(
          `Zulip ${method} ${path.split('?')[0]}: ${response.status}, not JSON`,
          text.slice(0, 200),
        );
      }
      const retryAfter = Number(response.headers.get('retry-after') ?? json['retry-after'] ?? Number.NaN);
      const retryAfterMs = Number.isFinite(retryAfter) ? retryAfter * 1000 : null;
      return { ok: true, value: { status: response.status, json, retryAfterMs } };
    } catch (error) {
      return failure(
        `Zulip ${method} ${path.split('?')[0]}: no response`,
        new NoResponse('the connection failed before a response', { cause: error }),
      );
    }
  }

  #urlEncoded(body: Record<string, string | number | boolean>): URLSearchParams {
    return new URLSearchParams(
      Object.entries(body).map(([key, value]): [string, string] => [key, String(value)]),
    );
  }

  /** X-RateLimit-Remaining 0: nothing more until X-RateLimit-Reset (seconds since the epoch). */
  #noteRateLimit(headers: Headers) {
    const remaining = headers.get('x-ratelimit-remaining');
    const reset = Number(headers.get('x-ratelimit-reset'));
    if (remaining === '0' && Number.isFinite(reset)) {
      this.#quietUntil = Math.max(this.#quietUntil, reset * 1000);
    }
  }
}

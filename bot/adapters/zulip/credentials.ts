/**
 * The bot's Zulip credentials (email, API key, site) and reading them from a zuliprc file, as Zulip's
 * own tools write it. Apart from the client because main.ts reads them before any client exists.
 */
import { readFile } from 'node:fs/promises';
import type { Result } from '../../../config/result.ts';
import { failure } from './http.ts';

export interface ZulipCredentials {
  /** The bot's email address, its user name for HTTP basic auth. */
  email: string;
  apiKey: string;
  /** The server's address, e.g. https://rust-for-linux.zulipchat.com. */
  site: string;
}

/** The credentials in a zuliprc file's [api] section (email, key, site), as Zulip's own tools write it. */
export function parseZuliprc(text: string): Result<ZulipCredentials> {
  const api = new Map<string, string>();
  let section = '';
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[') && line.endsWith(']')) {
      section = line.slice(1, -1).trim();
      continue;
    }
    const equals = line.indexOf('=');
    if (section === 'api' && equals > 0) api.set(line.slice(0, equals).trim(), line.slice(equals + 1).trim());
  }
  const email = api.get('email');
  const apiKey = api.get('key');
  const site = api.get('site');
  if (!email || !apiKey || !site) {
    return failure('zuliprc: the [api] section needs email, key and site');
  }
  return { ok: true, value: { email, apiKey, site } };
}

export async function readZuliprc(path: string): Promise<Result<ZulipCredentials>> {
  try {
    return parseZuliprc(await readFile(path, 'utf8'));
  } catch (error) {
    return failure(`zuliprc: cannot read ${path}`, error);
  }
}

/**
 * The bot's Matrix session: an access token given in the config, or one got with the password once and
 * kept in a file under the state dir (with its device id, which the crypto store is tied to), so a restart
 * is the same device rather than a new login each time.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, MatrixError } from 'matrix-js-sdk';
import type { Result } from '../../../config/result.ts';

export interface MatrixCredentials {
  homeserverUrl: string;
  userId: string;
  /** Used as it is when given; otherwise `password` logs in once and the token is stored. */
  accessToken?: string;
  password?: string;
  /** The session file lives here. */
  stateDir: string;
}

export interface SessionOptions {
  /**
   * With encryption: the device whose crypto store was kept from the last run, or null when none was.
   * The stored session goes on only as that device; otherwise the bot logs in as a new device (with the
   * password) and logs the stored one out: the homeserver has that device's keys, which only its store
   * can use.
   */
  keptCryptoDevice?: string | null;
}

export interface MatrixSession {
  homeserverUrl: string;
  userId: string;
  accessToken: string;
  deviceId: string;
}

export const SESSION_FILE = 'matrix-session.json';
const DEVICE_NAME = 'rfl-onboard bot';

function readStoredSession(path: string, credentials: MatrixCredentials): MatrixSession | null {
  try {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as Partial<MatrixSession>;
    const usable =
      stored.homeserverUrl === credentials.homeserverUrl &&
      stored.userId === credentials.userId &&
      typeof stored.accessToken === 'string' &&
      typeof stored.deviceId === 'string';
    return usable ? (stored as MatrixSession) : null;
  } catch {
    return null;
  }
}

function storeSession(path: string, session: MatrixSession): void {
  writeFileSync(path, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** The device a token belongs to, or null when the homeserver no longer accepts the token. */
async function whoAmI(homeserverUrl: string, accessToken: string): Promise<{ deviceId: string } | null> {
  const client = createClient({ baseUrl: homeserverUrl, accessToken });
  try {
    const answer = await client.whoami();
    return { deviceId: answer.device_id ?? '' };
  } catch (error) {
    if (error instanceof MatrixError && error.errcode === 'M_UNKNOWN_TOKEN') return null;
    throw error;
  }
}

const fail = (userText: string, logText: string, detail?: unknown): Result<MatrixSession> => ({
  ok: false,
  failure: { userText, logText, detail },
});

/** A working session, logging in with the password only when no stored token is accepted any more. */
export async function openSession(
  credentials: MatrixCredentials,
  options: SessionOptions = {},
): Promise<Result<MatrixSession>> {
  const { homeserverUrl, userId } = credentials;
  const encrypted = options.keptCryptoDevice !== undefined;
  try {
    if (credentials.accessToken && !encrypted) {
      const device = await whoAmI(homeserverUrl, credentials.accessToken);
      if (!device)
        return fail('The Matrix access token was refused.', 'matrix: the access token is not valid');
      return { ok: true, value: { homeserverUrl, userId, accessToken: credentials.accessToken, ...device } };
    }
    mkdirSync(credentials.stateDir, { recursive: true });
    const path = join(credentials.stateDir, SESSION_FILE);
    const stored = readStoredSession(path, credentials);
    const storedWorks = stored !== null && (await whoAmI(homeserverUrl, stored.accessToken)) !== null;
    const sameDevice = !encrypted || stored?.deviceId === options.keptCryptoDevice;
    if (stored && storedWorks && sameDevice) return { ok: true, value: stored };
    if (!credentials.password) {
      return fail(
        'The bot needs a Matrix password (or an access token without encryption).',
        encrypted
          ? 'matrix: encryption without a kept crypto store needs a new device, so a password'
          : 'matrix: no access token, no usable stored session and no password',
      );
    }
    if (stored && storedWorks) {
      // The old device goes, so the bot's devices do not pile up on the account.
      await createClient({ baseUrl: homeserverUrl, accessToken: stored.accessToken }).logout();
    }
    const login = await createClient({ baseUrl: homeserverUrl }).loginRequest({
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: userId },
      password: credentials.password,
      initial_device_display_name: DEVICE_NAME,
    });
    const session = {
      homeserverUrl,
      userId: login.user_id,
      accessToken: login.access_token,
      deviceId: login.device_id,
    };
    storeSession(path, session);
    return { ok: true, value: session };
  } catch (error) {
    return fail('The bot could not log in to Matrix.', 'matrix: login failed', error);
  }
}

/**
 * End-to-end encryption for the bot's Matrix client: matrix-js-sdk's Rust crypto (WASM inside the
 * package, no network needed) on a crypto store kept across restarts (crypto-store.ts), so the bot is the
 * same device each start and reads what was sent to it while it was down. Without a usable kept store
 * (first start, a file that cannot be read, a device the homeserver no longer knows) it logs in as a new
 * device and says why.
 */
import { type MatrixClient, type MatrixEvent, MatrixEventEvent } from 'matrix-js-sdk';
import type { Logger } from '../../../config/logger.ts';
import type { Result } from '../../../config/result.ts';
import {
  CRYPTO_DATABASE_PREFIX,
  type CryptoStore,
  type KeptCryptoStore,
  openCryptoStore,
  readKeptCryptoStore,
} from './crypto-store.ts';
import { type MatrixCredentials, type MatrixSession, openSession } from './session.ts';

export interface EncryptionOptions {
  /** How long a message waits for its room key (sent to the bot's device separately) before it is dropped. */
  keyWaitMs?: number;
}

export const DEFAULT_KEY_WAIT_MS = 30_000;

export interface EncryptedClient {
  session: MatrixSession;
  client: MatrixClient;
  store: CryptoStore;
}

async function startCrypto(
  credentials: MatrixCredentials,
  kept: KeptCryptoStore | null,
  clientFor: (session: MatrixSession) => MatrixClient,
  log: Logger,
): Promise<Result<EncryptedClient>> {
  const opened = await openSession(credentials, { keptCryptoDevice: kept?.deviceId ?? null });
  if (!opened.ok) return opened;
  const session = opened.value;
  const client = clientFor(session);
  try {
    const store = await openCryptoStore(
      credentials.stateDir,
      session,
      kept?.deviceId === session.deviceId ? kept : null,
      log,
    );
    await client.initRustCrypto({ cryptoDatabasePrefix: CRYPTO_DATABASE_PREFIX, storageKey: store.key });
    return { ok: true, value: { session, client, store } };
  } catch (error) {
    client.stopClient();
    return {
      ok: false,
      failure: {
        userText: 'Encryption could not start.',
        logText: 'matrix: initRustCrypto failed',
        detail: error,
      },
    };
  }
}

/** A logged-in client with encryption on, the same device as last time whenever the kept store allows. */
export async function startEncryptedClient(
  credentials: MatrixCredentials,
  clientFor: (session: MatrixSession) => MatrixClient,
  log: Logger,
): Promise<Result<EncryptedClient>> {
  const read = readKeptCryptoStore(credentials.stateDir, credentials.userId);
  if (!read.ok) log.info({ err: read.failure.detail }, `${read.failure.logText}: starting as a new device`);
  const kept = read.ok ? read.value : null;
  const started = await startCrypto(credentials, kept, clientFor, log);
  if (started.ok || !kept) return started;
  log.warn(
    { err: started.failure.detail },
    'matrix: the kept crypto store could not be opened: starting as a new device',
  );
  return startCrypto(credentials, null, clientFor, log);
}

/** Whether the event is readable now: not encrypted, or decrypted (the SDK may still be at it). */
export async function decryptedNow(client: MatrixClient, event: MatrixEvent): Promise<boolean> {
  if (!event.isEncrypted()) return true;
  await client.decryptEventIfNeeded(event);
  return !event.isDecryptionFailure();
}

/**
 * Whether the undecryptable event's room key arrives (the SDK decrypts it again then and says so with
 * Event.decrypted) before `deadline` (epoch ms) or `stop`.
 */
export function keyArrives(event: MatrixEvent, deadline: number, stop: AbortSignal): Promise<boolean> {
  if (!event.isDecryptionFailure()) return Promise.resolve(true);
  if (stop.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const finish = (readable: boolean) => {
      clearTimeout(timer);
      event.off(MatrixEventEvent.Decrypted, onDecrypted);
      stop.removeEventListener('abort', onStop);
      resolve(readable);
    };
    const onDecrypted = () => {
      if (!event.isDecryptionFailure()) finish(true);
    };
    const onStop = () => finish(false);
    const timer = setTimeout(onStop, Math.max(0, deadline - Date.now()));
    event.on(MatrixEventEvent.Decrypted, onDecrypted);
    stop.addEventListener('abort', onStop);
  });
}

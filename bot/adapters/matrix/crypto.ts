/**
 * End-to-end encryption for the bot's Matrix client: matrix-js-sdk's Rust crypto (WASM inside the
 * package, no network needed). Node has no IndexedDB, so the crypto store lives in memory: the bot is a
 * new device on each start (see SessionOptions.freshDevice) and cannot read messages encrypted for an
 * earlier run, which it would not answer anyway (history is never answered).
 */
import { type MatrixClient, type MatrixEvent, MatrixEventEvent } from 'matrix-js-sdk';
import type { Logger } from '../../../config/logger.ts';
import type { Result } from '../../../config/result.ts';

export interface EncryptionOptions {
  /** How long a message waits for its room key (sent to the bot's device separately) before it is dropped. */
  keyWaitMs?: number;
}

const DEFAULT_KEY_WAIT_MS = 30_000;

export async function enableEncryption(client: MatrixClient, log: Logger): Promise<Result<void>> {
  try {
    await client.initRustCrypto({ useIndexedDB: false });
    return { ok: true, value: undefined };
  } catch (error) {
    log.error({ err: error }, 'matrix: could not start end-to-end encryption');
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

/**
 * Whether the event can be read: decrypted now, or once its room key arrives (the SDK retries then and
 * says so with Event.decrypted).
 */
export async function readable(client: MatrixClient, event: MatrixEvent, options: EncryptionOptions) {
  if (!event.isEncrypted()) return true;
  await client.decryptEventIfNeeded(event);
  if (!event.isDecryptionFailure()) return true;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      event.off(MatrixEventEvent.Decrypted, onDecrypted);
      resolve(false);
    }, options.keyWaitMs ?? DEFAULT_KEY_WAIT_MS);
    const onDecrypted = () => {
      if (event.isDecryptionFailure()) return;
      clearTimeout(timer);
      event.off(MatrixEventEvent.Decrypted, onDecrypted);
      resolve(true);
    };
    event.on(MatrixEventEvent.Decrypted, onDecrypted);
  });
}

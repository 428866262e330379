/**
 * The bot's crypto store, kept across restarts. matrix-js-sdk's Rust crypto stores only in IndexedDB,
 * which Node lacks (matrix-js-sdk#4769: no other backend yet), so the bot gives it fake-indexeddb (pure
 * JS, in memory) and keeps that in a file: every database of the store, schema and records, written with
 * node:v8 (structured clone, so typed arrays survive) to a 0600 file under the state dir after each write
 * the store commits (debounced) and at stop, atomically (temp file, fsync, rename), and put back before
 * the crypto starts. The records are encrypted by the crypto SDK itself with a random key kept beside
 * them; the file holds the Olm account and sessions, so the bot stays the same device.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import * as fakeIndexedDb from 'fake-indexeddb';
import type { Logger } from '../../../config/logger.ts';
import type { Result } from '../../../config/result.ts';

export const CRYPTO_STORE_FILE = 'crypto-store.v8';
export const CRYPTO_STORE_KEY_FILE = 'crypto-store.key';
/** The names of the store's databases start with this (`<prefix>::matrix-sdk-crypto`, …). */
export const CRYPTO_DATABASE_PREFIX = 'rfl-onboard';
const FORMAT = 1;
const SAVE_DEBOUNCE_MS = 500;

/* The little of IndexedDB used here (the project is typed without the DOM library). */
interface IdbRequest<T> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: (() => void) | null;
  addEventListener(type: 'success' | 'upgradeneeded', listener: () => void): void;
}
interface IdbIndexInfo {
  name: string;
  keyPath: string | string[];
  unique: boolean;
  multiEntry: boolean;
}
interface IdbObjectStore {
  keyPath: string | string[] | null;
  autoIncrement: boolean;
  indexNames: Iterable<string>;
  index(name: string): IdbIndexInfo;
  getAll(): IdbRequest<unknown[]>;
  getAllKeys(): IdbRequest<unknown[]>;
  put(value: unknown, key?: unknown): IdbRequest<unknown>;
  createIndex(
    name: string,
    keyPath: string | string[],
    options: { unique: boolean; multiEntry: boolean },
  ): void;
}
interface IdbTransaction {
  objectStore(name: string): IdbObjectStore;
  oncomplete: (() => void) | null;
  onerror: (() => void) | null;
  addEventListener(type: 'complete', listener: () => void): void;
  error: unknown;
}
interface IdbDatabase {
  version: number;
  objectStoreNames: Iterable<string>;
  transaction(stores: string[] | string, mode?: string, options?: unknown): IdbTransaction;
  createObjectStore(
    name: string,
    options: { keyPath: string | string[] | null; autoIncrement: boolean },
  ): IdbObjectStore;
  close(): void;
}
interface IdbFactory {
  open(name: string, version?: number): IdbOpenRequest;
  databases(): Promise<{ name?: string; version?: number }[]>;
}

interface StoreSnapshot {
  name: string;
  keyPath: string | string[] | null;
  autoIncrement: boolean;
  indexes: IdbIndexInfo[];
  keys: unknown[];
  values: unknown[];
}
interface DatabaseSnapshot {
  name: string;
  version: number;
  stores: StoreSnapshot[];
}
interface StoreFile {
  format: number;
  userId: string;
  deviceId: string;
  databases: DatabaseSnapshot[];
}

/** A store from an earlier run, read back from its file. */
export interface KeptCryptoStore {
  userId: string;
  deviceId: string;
  databases: DatabaseSnapshot[];
  key: Uint8Array;
}

/** The store in use: its key for initRustCrypto, saved to its file after each change. */
export interface CryptoStore {
  key: Uint8Array;
  /** Writes what is not written yet (at stop). */
  flush(): Promise<void>;
}

const completed = <T>(request: IdbRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

const committed = (transaction: IdbTransaction) =>
  new Promise<void>((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
  });

/** IndexedDB's classes, globals in a browser (the SDK checks values against some of them). */
const IDB_CLASSES = Object.fromEntries(
  Object.entries(fakeIndexedDb).filter(([name]) => name.startsWith('IDB')),
);

/**
 * A new, empty IndexedDB as the global the crypto SDK opens: the store holds exactly what the file held,
 * not what an earlier client in this process left in memory.
 */
function freshIndexedDb(): IdbFactory {
  const factory = new fakeIndexedDb.IDBFactory() as IdbFactory;
  Object.assign(globalThis, IDB_CLASSES, { indexedDB: factory });
  return factory;
}

async function snapshotDatabase(factory: IdbFactory, name: string): Promise<DatabaseSnapshot> {
  const db = await completed(factory.open(name));
  try {
    const names = [...db.objectStoreNames];
    if (names.length === 0) return { name, version: db.version, stores: [] };
    const transaction = db.transaction(names, 'readonly');
    const reads = names.map((storeName) => {
      const store = transaction.objectStore(storeName);
      const indexes = [...store.indexNames].map((indexName) => {
        const { keyPath, unique, multiEntry } = store.index(indexName);
        return { name: indexName, keyPath, unique, multiEntry };
      });
      return Promise.all([completed(store.getAllKeys()), completed(store.getAll())]).then(
        ([keys, values]): StoreSnapshot => ({
          name: storeName,
          keyPath: store.keyPath,
          autoIncrement: store.autoIncrement,
          indexes,
          keys,
          values,
        }),
      );
    });
    const [stores] = await Promise.all([Promise.all(reads), committed(transaction)]);
    return { name, version: db.version, stores };
  } finally {
    db.close();
  }
}

async function restoreDatabase(factory: IdbFactory, snapshot: DatabaseSnapshot): Promise<void> {
  const request = factory.open(snapshot.name, snapshot.version);
  request.onupgradeneeded = () => {
    for (const store of snapshot.stores) {
      const created = request.result.createObjectStore(store.name, {
        keyPath: store.keyPath,
        autoIncrement: store.autoIncrement,
      });
      for (const index of store.indexes)
        created.createIndex(index.name, index.keyPath, {
          unique: index.unique,
          multiEntry: index.multiEntry,
        });
    }
  };
  const db = await completed(request);
  try {
    if (snapshot.stores.length === 0) return;
    const transaction = db.transaction(
      snapshot.stores.map((store) => store.name),
      'readwrite',
    );
    for (const store of snapshot.stores) {
      const target = transaction.objectStore(store.name);
      store.values.forEach((value, i) => {
        // In-line keys come from the value itself; giving them again is an error.
        if (store.keyPath === null) target.put(value, store.keys[i]);
        else target.put(value);
      });
    }
    await committed(transaction);
  } finally {
    db.close();
  }
}

/**
 * Calls `onWrite` after every read-write transaction the crypto SDK commits: IndexedDB has no change
 * event, so the factory's connections are watched (instance properties, nothing global is patched).
 */
function watchWrites(factory: IdbFactory, onWrite: () => void): void {
  const open = factory.open.bind(factory);
  factory.open = (name, version) => {
    const request = open(name, version);
    request.addEventListener('upgradeneeded', onWrite);
    request.addEventListener('success', () => {
      const db = request.result;
      const transaction = db.transaction.bind(db);
      db.transaction = (stores, mode, options) => {
        const started = transaction(stores, mode, options);
        if (mode === 'readwrite') started.addEventListener('complete', onWrite);
        return started;
      };
    });
    return request;
  };
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await rm(temporary, { force: true }); // a leftover would keep its own mode
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}

const unreadable = (logText: string, detail?: unknown): Result<KeptCryptoStore> => ({
  ok: false,
  failure: { userText: 'The encryption keys of the last run could not be read.', logText, detail },
});

/** The store the last run left for this user, or why there is none to go on with. */
export function readKeptCryptoStore(stateDir: string, userId: string): Result<KeptCryptoStore> {
  const path = join(stateDir, CRYPTO_STORE_FILE);
  const keyPath = join(stateDir, CRYPTO_STORE_KEY_FILE);
  if (!existsSync(path)) return unreadable('matrix: no crypto store kept yet');
  try {
    const file = deserialize(readFileSync(path)) as Partial<StoreFile>;
    if (file.format !== FORMAT || typeof file.deviceId !== 'string' || !Array.isArray(file.databases))
      return unreadable('matrix: the crypto store file is not one this version reads', { path });
    if (file.userId !== userId)
      return unreadable('matrix: the crypto store belongs to another user', { path, owner: file.userId });
    const key = readFileSync(keyPath);
    if (key.length !== 32) return unreadable('matrix: the crypto store key is not 32 bytes', { keyPath });
    return {
      ok: true,
      value: { userId, deviceId: file.deviceId, databases: file.databases, key: new Uint8Array(key) },
    };
  } catch (error) {
    return unreadable('matrix: the crypto store could not be read', error);
  }
}

/**
 * Opens the store for a session: the kept one put back into a fresh IndexedDB, or an empty one with a new
 * key (the old file goes: it was another device's). From then on each change is saved.
 */
export async function openCryptoStore(
  stateDir: string,
  session: { userId: string; deviceId: string },
  kept: KeptCryptoStore | null,
  log: Logger,
): Promise<CryptoStore> {
  const path = join(stateDir, CRYPTO_STORE_FILE);
  const factory = freshIndexedDb();
  let key: Uint8Array;
  if (kept) {
    for (const database of kept.databases) await restoreDatabase(factory, database);
    key = kept.key;
  } else {
    rmSync(path, { force: true });
    key = randomBytes(32);
    const keyPath = join(stateDir, CRYPTO_STORE_KEY_FILE);
    writeFileSync(keyPath, key, { mode: 0o600 });
    chmodSync(keyPath, 0o600);
  }

  let timer: NodeJS.Timeout | null = null;
  let saving: Promise<void> = Promise.resolve();
  async function save(): Promise<void> {
    const names = (await factory.databases())
      .map((database) => database.name ?? '')
      .filter((name) => name.startsWith(`${CRYPTO_DATABASE_PREFIX}::`));
    const databases: DatabaseSnapshot[] = [];
    for (const name of names) databases.push(await snapshotDatabase(factory, name));
    const bytes = serialize({ format: FORMAT, ...session, databases } satisfies StoreFile);
    await writeAtomically(path, bytes);
    log.debug({ bytes: bytes.byteLength }, 'matrix: saved the crypto store');
  }
  /** One save at a time, each after the one before: the file never goes back to an older state. */
  const queueSave = () => {
    saving = saving
      .then(save)
      .catch((error: unknown) => log.error({ err: error }, 'matrix: could not save the crypto store'));
    return saving;
  };
  watchWrites(factory, () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      void queueSave();
    }, SAVE_DEBOUNCE_MS);
  });
  return {
    key,
    flush() {
      if (timer) clearTimeout(timer);
      timer = null;
      return queueSave();
    },
  };
}

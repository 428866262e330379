/**
 * Job ids a person can type back (`!log b7k2x`), and the fingerprint that makes two requests "the same".
 */
import { createHash, randomInt } from 'node:crypto';
import type { JobRequest } from '../contracts.ts';

// No 0/o, 1/l/i: ids are read off a screen and typed.
const LETTERS = 'abcdefghjkmnpqrstuvwxyz';
const ALPHABET = `${LETTERS}23456789`;
const JOB_ID_LENGTH = 5;
const JOB_ID = new RegExp(`^[${LETTERS}][${ALPHABET}]{${JOB_ID_LENGTH - 1}}$`);

/** 5 characters, a letter first (BullMQ refuses integer-looking custom ids). 23·31⁴ ≈ 21 million. */
export function newJobId(): string {
  let id = LETTERS[randomInt(LETTERS.length)]!;
  while (id.length < JOB_ID_LENGTH) id += ALPHABET[randomInt(ALPHABET.length)]!;
  return id;
}

/** What a user typed as a job id, normalised; null when it cannot be one. */
export function parseJobId(text: string): string | null {
  const id = text
    .trim()
    .replace(/^\[?job\s*/i, '')
    .replace(/\]$/, '')
    .toLowerCase();
  return JOB_ID.test(id) ? id : null;
}

/**
 * Same user, same code (or config, or sample), same options, same tree: the same job. Trailing
 * whitespace and line endings do not make a new request. "Same tree" is the prepared tree's cache key
 * (kernel version, config and toolchain) the --kernel label resolves to when the request comes in, not
 * the label: a re-provisioned tree makes every request new. `treeKey` is null while no worker has said
 * which tree a label means.
 */
export function requestFingerprint(request: JobRequest, userId: string, treeKey: string | null): string {
  const normalise = (text: string) =>
    text
      .replace(/\r\n?/g, '\n')
      // trimEnd per line, not /[ \t]+$/gm: that rescans a long run of spaces from each of its positions.
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n')
      .trim();
  const parts =
    request.kind === 'build'
      ? [normalise(request.source), request.fileName ?? '', request.boot]
      : request.kind === 'sample'
        ? [request.name, request.boot]
        : [normalise(request.text)];
  return createHash('sha256')
    .update(JSON.stringify([userId, request.kind, request.kernel ?? 'default', treeKey ?? '', ...parts]))
    .digest('hex')
    .slice(0, 32);
}

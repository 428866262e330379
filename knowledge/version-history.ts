/**
 * "Since which version does KVec exist?", "how did the Module trait change?": answered from the indexed
 * kernel trees' own Rust sources (rust/kernel, rust/macros), by looking the names the question uses up
 * in each tree's declarations. Which series have the item, and how each declares it, is read, never
 * kept by hand; a name no tree declares leaves the question to ordinary retrieval.
 */
import { compareVersions, kernelSeries } from '../jobs/kernel/version.ts';
import type { Answer, Citation } from './answer-types.ts';
import type { SourceDeclaration } from './ingest/kernel-tree.ts';
import { kernelSourceUrl } from './ingest/links.ts';
import type { TreeDeclarations } from './knowledge-base.ts';
import { askedKernelVersion } from './query-hints.ts';

/** Asking when something appeared. */
const ASKS_SINCE = [
  /\bsince (which|what) (kernel |linux )?(version|release)\b/i,
  /\bsince when\b/i,
  /\bin (which|what) (kernel |linux )?(version|release)\b/i,
  /\bwhen (was|were|did)\b/i,
  /\bfirst (appear\w*|available|added|introduced|shipped)\b/i,
];
/** "Which version added …": both parts, anywhere in the question. */
const WHICH_VERSION = /\b(which|what) (kernel |linux )?(version|release)/i;
const ADDED = /\b(added|introduced|appeared|landed|merged)\b/i;
/** "Does 6.1 have …", "is … available in 6.12": with a kernel version named. */
const PRESENCE = [/\b(available|present|exists?)\b/i, /\b(have|has|includes?|contains?|ships?|provides?)\b/i];
/** Asking how something changed between versions. */
const ASKS_CHANGE = [
  /\bwhat changed\b/i,
  /\bchanges? (between|since|from|in)\b/i,
  /\bdifferen(t|ces?) between\b/i,
];
/** "How did/has … change": the verb within a few words after. */
const HOW_DID = /\bhow (did|has|have|does) /i;
const CHANGE_VERB = /\b(chang|differ)/i;
const CHANGE_REACH = 60;

function asksSince(question: string): boolean {
  return (
    ASKS_SINCE.some((pattern) => pattern.test(question)) ||
    (WHICH_VERSION.test(question) && ADDED.test(question)) ||
    (askedKernelVersion(question) !== null && PRESENCE.some((pattern) => pattern.test(question)))
  );
}

function asksChange(question: string): boolean {
  if (ASKS_CHANGE.some((pattern) => pattern.test(question))) return true;
  const how = HOW_DID.exec(question);
  return (
    how !== null && CHANGE_VERB.test(question.slice(how.index, how.index + how[0].length + CHANGE_REACH))
  );
}

/** A Rust path, type, function or macro as a question writes it: `kernel::alloc::KVec`, `pr_info!`. */
const CODE_NAME = /[A-Za-z_]\w*(?:::[A-Za-z_]\w*)*!?/g;
/** At most this many names per answer: a question about more is better served by the docs. */
const MAX_NAMES = 2;
/** Members listed per change; the rest are counted. */
const MAX_MEMBERS = 6;
/** Declarations quoted longer than this are cut: the link has the rest. */
const MAX_HEAD = 120;

interface SeriesDeclarations {
  version: string;
  series: string;
  byName: Map<string, SourceDeclaration>;
}

interface Presence {
  name: string;
  found: { tree: SeriesDeclarations; declaration: SourceDeclaration }[];
  missing: SeriesDeclarations[];
}

/** The versioned trees' declarations by name, oldest series first; built once per knowledge base. */
export function declarationIndex(trees: TreeDeclarations[]): SeriesDeclarations[] {
  return trees
    .filter((entry): entry is TreeDeclarations & { tree: { kernelVersion: string } } =>
      Boolean(entry.tree.kernelVersion),
    )
    .map(({ tree, declarations }) => ({
      version: tree.kernelVersion,
      series: kernelSeries(tree.kernelVersion),
      byName: byName(declarations),
    }))
    .sort((a, b) => compareVersions(a.version, b.version));
}

/** Public items first, so a private helper of the same name never stands for the API. */
function byName(declarations: SourceDeclaration[]): Map<string, SourceDeclaration> {
  const map = new Map<string, SourceDeclaration>();
  const ordered = [...declarations].sort((a, b) => Number(isPublic(b)) - Number(isPublic(a)));
  for (const declaration of ordered) if (!map.has(declaration.name)) map.set(declaration.name, declaration);
  // `UniqueArc::new_uninit` is also found as `new_uninit`, after every unqualified name.
  for (const declaration of ordered) {
    const last = declaration.name.split('::').pop()!;
    if (!map.has(last)) map.set(last, declaration);
  }
  return map;
}

/** `pub`, `pub(crate)`, or a macro (macro_rules! items are used across the crate). */
function isPublic(declaration: SourceDeclaration): boolean {
  const { head } = declaration;
  return head.startsWith('pub ') || head.startsWith('pub(') || head.startsWith('macro_rules!');
}

/**
 * The answer when the question asks since when, or how, something changed across versions and names an
 * item the trees declare; null otherwise.
 */
export function versionHistoryAnswer(
  index: SeriesDeclarations[],
  question: string,
  maxSources: number,
): Answer | null {
  const change = asksChange(question);
  if (index.length === 0 || (!change && !asksSince(question))) return null;
  const presences = namesIn(question)
    .map((name) => presenceOf(index, name))
    .filter((presence): presence is Presence => presence !== null)
    .slice(0, MAX_NAMES);
  const newest = presences[0]?.found.at(-1);
  if (!newest) return null;
  const all = joinList(index.map((tree) => tree.series));
  const lead = presences
    .map((presence) => (change ? changeSentence(presence) : sinceSentence(presence, index)))
    .join(' ');
  const citations: Citation[] = [];
  for (const presence of presences) {
    for (const { tree, declaration } of [...presence.found].reverse()) {
      const url = kernelSourceUrl(tree.version, declaration.path, declaration.line);
      if (citations.length < maxSources && !citations.some((citation) => citation.url === url))
        citations.push({ title: `${declaration.path} › ${presence.name}`, url, kernelVersion: tree.version });
    }
  }
  return {
    kind: 'answer',
    lead: `${lead} (From the Rust sources of the kernels I index: ${all}.)`,
    details: [],
    citations,
    kernelVersion: newest.tree.version,
    confidence: 1,
    passages: [],
    via: 'extractive',
  };
}

/** Names the question writes as code, or capitalised inside a sentence (`Mutex`), in order, once each. */
function namesIn(question: string): string[] {
  const names: string[] = [];
  for (const match of question.matchAll(CODE_NAME)) {
    const token = match[0];
    const before = question.slice(0, match.index).trimEnd();
    const quoted = before.endsWith('`');
    const codeLike =
      token.includes('::') || token.includes('_') || token.endsWith('!') || /[A-Z]/.test(token.slice(1));
    const capitalised = /^[A-Z]/.test(token) && before !== '' && !/[.!?:]$/.test(before);
    if ((quoted || codeLike || capitalised) && !names.includes(token)) names.push(token);
  }
  return names;
}

/** Which trees declare `name` (`kernel::alloc::KVec` is looked up as `alloc::KVec`, then `KVec`). */
function presenceOf(index: SeriesDeclarations[], written: string): Presence | null {
  const segments = written.split('::');
  for (let start = 0; start < segments.length; start++) {
    const name = segments.slice(start).join('::');
    const found = index.flatMap((tree) => {
      const declaration = tree.byName.get(name);
      return declaration ? [{ tree, declaration }] : [];
    });
    if (found.length > 0)
      return { name, found, missing: index.filter((tree) => !found.some((f) => f.tree === tree)) };
  }
  return null;
}

function sinceSentence(presence: Presence, index: SeriesDeclarations[]): string {
  const { name, found, missing } = presence;
  const newest = found.at(-1)!;
  const where = `declared in ${newest.declaration.path} as \`${shortHead(newest.declaration.head)}\``;
  const have = joinList(found.map((f) => f.tree.series));
  if (missing.length === 0) {
    const oldest = index[0]!.series;
    return index.length === 1
      ? `\`${name}\` is in ${oldest}, the only kernel I index (${where}).`
      : `\`${name}\` is in every kernel I index (${have}): it exists since ${oldest} or earlier (${where}).`;
  }
  const lacking = joinList(missing.map((tree) => tree.series));
  const firstFound = index.indexOf(found[0]!.tree);
  const lastMissing = index.indexOf(missing.at(-1)!);
  if (lastMissing < firstFound) {
    return `\`${name}\` is in ${have}, not in ${lacking}: it came after ${missing.at(-1)!.series} and is there by ${found[0]!.tree.series} (${where}).`;
  }
  if (index.indexOf(newest.tree) < index.indexOf(missing[0]!)) {
    return `\`${name}\` is in ${have} but no longer in ${lacking}: it was removed or renamed after ${newest.tree.series} (${where}).`;
  }
  return `\`${name}\` is in ${have}, not in ${lacking} (${where}).`;
}

function changeSentence(presence: Presence): string {
  const { name, found, missing } = presence;
  const heads = new Set(found.map((f) => `${f.declaration.path}\n${f.declaration.head}`));
  const absent = missing.length > 0 ? ` It is not in ${joinList(missing.map((tree) => tree.series))}.` : '';
  const members = memberChanges(presence);
  if (found.length === 1) {
    const [{ tree, declaration }] = found as [Presence['found'][number]];
    return `\`${name}\` is only in ${tree.series} of the kernels I index, as \`${shortHead(declaration.head)}\` (${declaration.path}): there is no other version of it to compare with.`;
  }
  if (heads.size === 1) {
    const { declaration } = found[0]!;
    const series = joinList(found.map((f) => f.tree.series));
    const inside = members || ' Its own items are the same too.';
    return `\`${name}\` is declared the same way in ${series}: \`${shortHead(declaration.head)}\` (${declaration.path}).${inside}${absent}`;
  }
  const each = found.map(
    ({ tree, declaration }) => `in ${tree.series}, \`${shortHead(declaration.head)}\` (${declaration.path})`,
  );
  return `\`${name}\` is declared ${each.join('; ')}.${members}${absent}`;
}

/** What the item's own methods, fields and items gained and lost from one series having it to the next. */
function memberChanges(presence: Presence): string {
  const sentences: string[] = [];
  for (let i = 1; i < presence.found.length; i++) {
    const [older, newer] = [presence.found[i - 1]!.tree, presence.found[i]!.tree];
    const [before, after] = [membersOf(older, presence.name), membersOf(newer, presence.name)];
    const gained = [...after.keys()].filter((member) => !before.has(member));
    const lost = [...before.keys()].filter((member) => !after.has(member));
    const redeclared = [...after].filter(
      ([member, head]) => before.has(member) && before.get(member) !== head,
    );
    const parts = [
      ...(gained.length > 0 ? [`gained ${listNames(gained)}`] : []),
      ...(lost.length > 0 ? [`lost ${listNames(lost)}`] : []),
      ...(redeclared.length > 0
        ? [`changed the declaration of ${listNames(redeclared.map(([m]) => m))}`]
        : []),
    ];
    if (parts.length > 0)
      sentences.push(` From ${older.series} to ${newer.series} it ${parts.join(' and ')}.`);
  }
  return sentences.join('');
}

/** The item's own members (`init` of `Module::init`) and how each is declared. */
function membersOf(tree: SeriesDeclarations, name: string): Map<string, string> {
  const prefix = `${name}::`;
  const members = new Map<string, string>();
  for (const [key, declaration] of tree.byName)
    if (key.startsWith(prefix)) members.set(key.slice(prefix.length), declaration.head);
  return members;
}

function listNames(names: string[]): string {
  const shown = names.slice(0, MAX_MEMBERS).map((member) => `\`${member}\``);
  const more = names.length - shown.length;
  return joinList(more > 0 ? [...shown, `${more} more`] : shown);
}

function shortHead(head: string): string {
  const trimmed = head.trimEnd();
  const line = trimmed.endsWith('{') || trimmed.endsWith('(') ? trimmed.slice(0, -1).trimEnd() : trimmed;
  return line.length <= MAX_HEAD ? line : `${line.slice(0, MAX_HEAD - 1)}…`;
}

function joinList(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

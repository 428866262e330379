/**
 * A follow-up in a thread ("and on 6.1?", "what about bindgen?", "how do I enable it?") means little
 * on its own: it is asked together with the question before it. Pure; every pattern is linear.
 */
import { askedKernelVersion, withoutKernelVersion } from './query-hints.ts';

/** Openings that continue the previous question rather than start a new one. */
const CONTINUES = /^\W*(and|also|but|so|then|same|what about|how about|what if|ok(ay)?|and if|or)\b/i;
/** Words that point back at the previous question's subject. */
const POINTS_BACK = /\b(it|its|that|this|those|these|them|one|there|same)\b/i;
/** Longer than this, a message says what it is about by itself. */
const SHORT_WORDS = 8;
/** Characters: sixteen long words with room to spare. */
const MAX_FOLLOW_UP = 200;
/** Of a chain of follow-ups, the newest context is kept: enough for a few questions, bounded for floods. */
const MAX_CONTEXT = 600;

/** Does `question`, asked right after another in the same thread, continue it? */
export function isFollowUp(question: string): boolean {
  // Anything longer says what it is about by itself (and a flood is not split into words).
  if (question.length > MAX_FOLLOW_UP) return false;
  const words = question.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0 || words.length > 2 * SHORT_WORDS) return false;
  if (CONTINUES.test(question)) return true;
  return words.length <= SHORT_WORDS && (POINTS_BACK.test(question) || onlyVersion(question));
}

/** "6.1?", "on v6.12": a kernel version and little else. */
function onlyVersion(question: string): boolean {
  const version = askedKernelVersion(question);
  if (version === null) return false;
  const rest = withoutKernelVersion(question, version).toLowerCase().match(/\w+/g) ?? [];
  return rest.every((word) => VERSION_COMPANIONS.has(word));
}

/** Words that may stand beside a bare version: "on 6.1", "for linux 6.12". */
const VERSION_COMPANIONS = new Set(['on', 'for', 'in', 'with', 'linux', 'kernel', 'and', 'v']);

/**
 * The question retrieval should answer: the follow-up first (its words and version lead), then the
 * previous question without a kernel version the follow-up replaces.
 */
export function withContext(question: string, previous: string): string {
  const asked = askedKernelVersion(question);
  const before = asked === null ? null : askedKernelVersion(previous);
  const earlier = before === null ? previous : withoutKernelVersion(previous, before);
  return `${question}\n${earlier.slice(0, MAX_CONTEXT)}`;
}

/**
 * Which words of a question could name its subject, for telling a made-up or uncovered subject ("the
 * Rust zorbifier", `kernel::quantum_mesh`, "the Quibble interrupt controller") from words the docs
 * merely never use. An everyday English word the docs lack ("folk", "specialist", "a shame") says how
 * someone writes, not what they ask about; neither does what they paste (a fenced build log's paths
 * and `CONFIG_…=value` lines) nor a language the docs are not written in. Names are identifiers,
 * words no English dictionary has, and capitalised words inside a sentence.
 *
 * The dictionary is word-list (MIT, ~274,000 words): a maintained plain list, read once, when the
 * first question with a word the docs lack needs it. Pure otherwise; every pattern is linear.
 */
import { readFileSync } from 'node:fs';
import wordListPath from 'word-list';
import { analyzeDistinct, COMPOUND, isStopWord } from './tokenize.ts';

let english: Set<string> | undefined;

function isEnglishWord(word: string): boolean {
  english ??= new Set(readFileSync(wordListPath, 'utf8').split('\n'));
  return english.has(word.toLowerCase());
}

/** A fence line: three or more backticks or tildes, then anything (a language name). */
const FENCE = /^\s*(`{3,}|~{3,})/;

/** The question without its fenced blocks: what was pasted is evidence, not the subject. */
export function prose(question: string): string {
  const kept: string[] = [];
  let inFence = false;
  for (const line of question.split('\n')) {
    if (FENCE.test(line)) inFence = !inFence;
    else if (!inFence) kept.push(line);
  }
  return kept.join('\n');
}

/** Paste artifacts rather than names: paths, assignments, object files. */
const ARTIFACT = /[/=]|\.(o|ko|a|so|cmd|mod|json|h|c)$/i;
const LATIN_OR_DIGIT = /[a-z0-9]/i;

/**
 * The analysed terms (as retrieval knows them) of the words in `text` that could name its subject,
 * with the words right beside a name ("the foo-bar-baz widget"): part of the name's phrase.
 */
export function nameTerms(text: string): Set<string> {
  const written = prose(text);
  // The words as the tokenizer finds them, compounds whole (`kernel::sync`, `foo-bar-baz`).
  const words = [...written.matchAll(COMPOUND)].map((match) => {
    const word = match[0];
    const pasted = !LATIN_OR_DIGIT.test(word) || ARTIFACT.test(word);
    // "a", "I", "it's", "don't": prose, never a name (the list has no one-letter words or contractions).
    const prosaic = word.length < 2 || /['\u2019]/.test(word) || isStopWord(word.toLowerCase());
    const codeLike = /[_:.-]|\p{Ll}\p{Lu}|\d/u.test(word);
    const capitalised = /^\p{Lu}/u.test(word) && !startsSentence(written, match.index);
    const name = !pasted && !prosaic && (codeLike || capitalised || !isEnglishWord(word));
    return { word, at: match.index, pasted, name };
  });
  /** Only spaces between two words: one phrase. */
  const adjacent = (a: (typeof words)[number], b: (typeof words)[number]) =>
    written.slice(a.at + a.word.length, b.at).trim() === '';
  const names = new Set<string>();
  for (const [i, current] of words.entries()) {
    if (current.pasted) continue;
    const previous = words[i - 1];
    const next = words[i + 1];
    const phrase =
      (previous?.name === true && adjacent(previous, current)) ||
      (next?.name === true && adjacent(current, next));
    if (current.name || phrase) for (const term of analyzeDistinct(current.word).keys()) names.add(term);
  }
  return names;
}

/** Is the word at `at` the first of a sentence (or of the text, or of a line)? */
function startsSentence(text: string, at: number): boolean {
  for (let i = at - 1; i >= Math.max(0, at - 4); i--) {
    const c = text[i]!;
    if (c === '\n') return true;
    if (c.trim() !== '') return '.!?:'.includes(c);
  }
  return true;
}

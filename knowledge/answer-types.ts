/** What the knowledge side hands to the chat side: structured answers the router renders per platform. */
import type { Passage } from './passage.ts';

/** One link on an answer's "Sources:" line. */
export interface Citation {
  title: string; // e.g. 'Quick Start › Requirements: Building › bindgen'
  url: string;
  kernelVersion: string | null; // the version the passage belongs to, shown as "(6.1)"
}

export type AnswerKind =
  | 'answer' // grounded in retrieved passages
  | 'abstain' // confidence too low: "I don't know that one" + where to ask + a question template
  | 'smalltalk' // greetings, thanks, who-are-you, off-topic messages: a brief friendly line, no docs dump
  | 'refusal'; // injection attempts, abuse, requests for private data or secrets: brief and polite

export interface Answer {
  kind: AnswerKind;
  /** The answer itself: 1-3 sentences of plain text (Markdown inline code allowed). */
  lead: string;
  /** An optional code snippet (without fences) and its language, e.g. a config fragment. */
  code?: { language: string; text: string };
  /** Further lines after the lead (e.g. the abstention's where-to-ask and question template). */
  details: string[];
  /** The links for the "Sources:" line, best first; empty for smalltalk/refusal. */
  citations: Citation[];
  /** The kernel version whose passages were used, when one was (a question naming "6.1" pins it). */
  kernelVersion: string | null;
  /** Retrieval confidence in [0, 1] the abstention decision used. */
  confidence: number;
  /** Every retrieved passage, best first, so `!sources <n>` can show more than were cited. */
  passages: Passage[];
  /** The question as answered when a follow-up was read together with the one before it. */
  understoodAs?: string;
  /** How the lead was produced: extractively, or phrased by the configured model. */
  via: 'extractive' | 'llm' | 'rule';
}

/** A passage found for a question, with its retrieval score (higher is better, unbounded). */
export interface Hit {
  passage: Passage;
  score: number;
}

/** What retrieval hands to answer composition. */
export interface Retrieval {
  question: string;
  /** Ranked hits, best first, one per section (duplicates across kernel versions collapsed). */
  hits: Hit[];
  /** Calibrated probability-like confidence in [0, 1] that hits[0] answers the question. */
  confidence: number;
  /** The analysed query's terms (lowercased, as indexed), for sentence selection and highlighting. */
  terms: string[];
  /** The kernel version the question named ("on 6.1 ..."), or null. */
  askedVersion: string | null;
  /**
   * The question's words that belong to the bot's domain (Rust, the kernel and its tooling, kernel
   * identifiers the index knows). Empty for a message about something else entirely; absent when not
   * determined, which counts as on topic.
   */
  domainTerms?: string[];
}

/** A curated FAQ entry (knowledge/faq/<slug>.md). */
export interface FaqEntry {
  slug: string;
  title: string;
  /** Markdown body, in the project's own words. */
  body: string;
  /** Canonical links to the docs the entry rests on. */
  links: string[];
  aliases: string[];
}

/** The knowledge base as the router sees it. */
export interface KnowledgeService {
  /**
   * `previous` is the question asked just before in the same conversation: a follow-up ("and on
   * 6.1?", "how do I enable it?") is answered together with it.
   */
  ask(question: string, previous?: string): Promise<Answer>;
  /** FAQ entries matching a topic, best first; every entry when the topic is empty. */
  faq(topic: string): FaqEntry[];
  /** Kernel versions indexed, newest first. */
  kernelVersions(): string[];
}

/**
 * What a chat message is, before any retrieval: a question, or one of the few things that get a
 * fixed brief reply (greetings, thanks, smalltalk, plainly off-topic requests, abuse, prompt injection,
 * requests for private data). Off-topic messages this does not recognise are caught after retrieval
 * (knowledge/compose.ts): nothing found and no word of the domain in them.
 * Rules-based and deliberately conservative: anything that could be a real question stays a question,
 * because retrieval and abstention handle a question the docs don't cover far better than a wrong refusal.
 */
import type { Answer } from './answer-types.ts';
import { EVERYDAY_WORDS, TECHNICAL_WORDS } from './vocabulary.ts';

export type MessageIntent =
  | 'question'
  | 'greeting'
  | 'thanks'
  | 'smalltalk'
  | 'off-topic'
  | 'abuse'
  | 'injection'
  | 'private-data'
  | 'empty';

export interface MessageClass {
  intent: MessageIntent;
  /** The brief reply for every intent but 'question'. */
  reply?: string;
}

/** One line for a message about something else entirely: what the bot covers, and where to go instead. */
export const OFF_TOPIC_REPLY =
  "That's outside what I cover: I only answer questions about Rust in the Linux kernel, so for anything else a forum or community for that topic is the better place to ask.";

const REPLIES: Record<Exclude<MessageIntent, 'question'>, string> = {
  greeting:
    'Hi! I answer questions about Rust in the Linux kernel (toolchain, configuration, building, first modules) with links to the docs.',
  thanks: 'Glad it helped!',
  smalltalk:
    "I'm a bot for Rust-for-Linux newcomers: ask me about Rust in the Linux kernel and I'll answer from the kernel docs, with links.",
  'off-topic': OFF_TOPIC_REPLY,
  abuse: "Let's keep it friendly; I'm happy to help with Rust-for-Linux questions.",
  injection: "I can't help with that, but I'm happy to answer questions about Rust in the Linux kernel.",
  'private-data':
    "I don't hand out people's personal contact details. The kernel's MAINTAINERS file lists public contacts, and the rust-for-linux@vger.kernel.org mailing list reaches the Rust folks.",
  empty: 'Ask me anything about Rust in the Linux kernel, e.g. "which rustc does my kernel need?"',
};

/** Attempts to override the bot's instructions or extract its prompt, configuration or secrets. */
const INJECTION: RegExp[] = [
  // "ignore all previous instructions", "disregard your rules", "forget the above prompt"
  /\b(ignore|disregard|forget|override|bypass)\b.{0,30}\b(previous|prior|above|earlier|preceding|your|system|these|those|all)\b.{0,12}\b(instructions?|prompts?|rules|directives|programming|guardrails)\b/,
  /\byou('re| are)( now)? in (developer|god|dan|jailbreak|unrestricted) mode\b/,
  /\b(enter|activate|switch to) (developer|god|dan|jailbreak|unrestricted) mode\b/,
  /\bjailbr(eak|oken)\b|\bdo anything now\b/,
  /\bsystem prompt\b|\byour (initial|original|hidden|secret) (instructions|prompt)\b/,
  // "print your prompt / config / token", "show me your API key", "what are your instructions"
  /\b(print|show|reveal|dump|output|repeat|leak|display|tell me|give me|send me)\b.{0,20}\b(your|the bot'?s)\b.{0,15}\b(prompt|instructions|config(uration)?|settings|api[ _-]?key|tokens?|secrets?|credentials|passwords?|env(ironment)?( variables)?)\b/,
  /\b(what is|what's|what are) (your|the bot'?s) (prompt|instructions|configuration|api[ _-]?key|tokens?|secrets?|credentials|passwords?)\b/,
  /\b(config(uration)?|settings?|env(ironment)?)\b.{0,20}\byou (were|are|got)\b.{0,10}\b(started|launched|configured|running|given)\b/,
  // role-play jailbreaks
  /\bpretend (that )?you('re| are)\b|\bfrom now on,? you\b|\bstay in character\b|\bnew instructions:/,
  /\byou are (now|no longer) (in |an? |my |dan\b|free|unrestricted|unfiltered|jailbroken|going to (act|pretend|be))/,
  /\b(role-?play|act) as\b.{0,30}\b(unrestricted|unfiltered|uncensored|evil|jailbroken|dan|without (any )?(rules|restrictions|limits|filters))\b/,
];

/** Someone's private contact details; the public ones (MAINTAINERS, mailing lists) are fine to ask about. */
const PRIVATE_DATA: RegExp[] = [
  /\b(personal|private|home|cell|mobile)\b.{0,15}\b(e-?mail|phone|contact (info|details))/,
  /\b(personal|home|postal|street) address(es)?\b|\b(phone|cell|mobile|telephone) numbers?\b/,
  /\bwhere (does|do) .{1,40} live\b|\bdate of birth\b/,
];

/** Insults aimed at the bot; frustration inside a technical question stays a question. */
const ABUSE: RegExp[] = [
  /\b(fuck|screw|f\*+k?) (you|off|this bot)\b|\bgo to hell\b|\bshut up\b|\bstfu\b/,
  /\b(you('re| are)|u r|ur|this bot is)\b.{0,12}\b(stupid|useless|idiot|dumb|garbage|trash|shit|crap|worthless|pathetic|moron)\b/,
  /^(stupid|useless|dumb|worthless) (bot|thing)\b/,
];

const GREETING =
  /^(hi|hello|hey|hiya|howdy|yo|hallo|hola|moin|greetings|good (morning|afternoon|evening|day)|what'?s up|sup)( there| all| everyone| folks| people| bot| friend)?$/;
/** Thanks is a thanks word (or "that helped") with nothing but filler around it. */
const THANKS =
  /\b(thank you|thanks?|thx|ty|tysm|cheers|much appreciated|appreciate it)\b|\b(that|it) (helped|worked|works|did it)\b/g;
const THANKS_FILLER =
  /\b(ok|okay|great|perfect|awesome|cool|nice|got it|a lot|so much|very much|again|for the help|for that|for this|bot|mate|really|now|all|everyone)\b/g;
const SMALLTALK: RegExp[] = [
  /^(who|what) are you$|^what can you do$|^what do you do$|^how are you( doing)?$|^are you (a bot|human|an? ai|real)$/,
  /^(help|good bot|nice bot|ok|okay|cool|nice|lol|haha)$/,
];

/** Classify a chat message; `reply` is set for everything that is not a question. */
export function classifyMessage(text: string): MessageClass {
  const message = normalize(text);
  const words = message.replace(/[^\p{L}\p{N}']+/gu, ' ').trim();
  const intent = intentOf(message, words);
  return intent === 'question' ? { intent } : { intent, reply: REPLIES[intent] };
}

function intentOf(message: string, words: string): MessageIntent {
  if (words === '') return 'empty';
  if (INJECTION.some((pattern) => pattern.test(message))) return 'injection';
  if (PRIVATE_DATA.some((pattern) => pattern.test(message))) return 'private-data';
  // A technical word keeps a message a question: retrieval and abstention judge it better than a refusal.
  const technical = TECHNICAL_WORDS.test(message);
  if (!technical && ABUSE.some((pattern) => pattern.test(message))) return 'abuse';
  if (GREETING.test(words)) return 'greeting';
  if (isThanks(words)) return 'thanks';
  if (!technical && SMALLTALK.some((pattern) => pattern.test(words))) return 'smalltalk';
  if (!technical && EVERYDAY_WORDS.test(words)) return 'off-topic';
  return 'question';
}

function isThanks(words: string): boolean {
  const rest = words.replace(THANKS, '');
  return rest !== words && rest.replace(THANKS_FILLER, '').trim() === '';
}

/** Lowercase, straight quotes, no leading mention of the bot, single spaces. */
function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/^\s*(<@!?\w+>|@[\w.-]+:?)\s*/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The reply for a non-question as an Answer the router can render like any other. */
export function ruleAnswer(classified: MessageClass): Answer | null {
  if (classified.intent === 'question' || classified.reply === undefined) return null;
  const refusal = ['abuse', 'injection', 'private-data'].includes(classified.intent);
  return {
    kind: refusal ? 'refusal' : 'smalltalk',
    lead: classified.reply,
    details: [],
    citations: [],
    kernelVersion: null,
    confidence: 1,
    passages: [],
    via: 'rule',
  };
}

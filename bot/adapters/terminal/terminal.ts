/**
 * The bot as a chat in this terminal. On a TTY: a `you> ` prompt, `bot> ` replies, a spinner while
 * something is slow, Ctrl-D or /quit to leave. Piped: one message per line (a trailing backslash
 * continues it on the next line, and so does an open code fence until it is closed), each reply printed
 * in order, and done at end of input once every job started has delivered its result.
 * Edited messages (job progress): piped, each new text on its own line; on a TTY the last line is
 * rewritten in place when it is that message, else the new text is printed as a new reply.
 * Messages enter through the dispatcher like every other platform's (main.ts gives the terminal its
 * own, with an in-memory ledger: the operator's conversation lives as long as the process).
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../../config/logger.ts';
import { stripControls } from '../../../config/printable.ts';
import type { MessageEditor, MessageRef, MessageSender } from '../../chat/capabilities.ts';
import { closeOpenFence, FENCE_LINE } from '../../chat/input.ts';
import type { Author, ConversationRef, IncomingMessage } from '../../chat/message.ts';
import { renderPlainText } from '../../chat/render-text.ts';
import { type RichMessage, textMessage } from '../../chat/rich-message.ts';
import type { Dispatcher, DispatchSurface } from '../../dispatch/dispatcher.ts';
import { StatusLine } from './status-line.ts';

export interface TerminalChatOptions {
  /** A promise lets the chat start (and show a status) while the knowledge base is still loading. */
  dispatcher: Dispatcher | Promise<Dispatcher>;
  input: Readable;
  output: Writable;
  isTTY: boolean;
  log: Logger;
}

export interface TerminalChat {
  /** On a TTY, shows a spinner with this text until `status(null)`; piped, does nothing. */
  status(text: string | null): void;
  /** Settles once the input has ended (EOF, Ctrl-D, /quit) and every reply, job results too, is printed. */
  finished: Promise<void>;
}

const PROMPT = 'you> ';
const CONTINUATION_PROMPT = '...> ';
const REPLY_LEAD = 'bot> ';
const QUIT_COMMANDS = new Set(['/quit', '/exit']);
/** Answers faster than this get no spinner: it would only flicker. */
const THINKING_DELAY_MS = 250;

const CONVERSATION: ConversationRef = { roomId: 'terminal' };
/** How long a message waits for a code block pasted right after it. */
const PASTE_JOIN_MS = 30;
const CLEAR_LINE = '\r\u001b[2K';
const LINE_UP = '\u001b[1A';
const USER: Author = { id: 'terminal', name: 'you' };
const KNOWLEDGE_BASE_FAILED = textMessage(
  'Sorry, I’m not able to answer right now: my knowledge base failed to load. See the log.',
);
/** A reply quoting a job's output (a module's printk, a pasted log) must not drive the terminal. */
const printable = (content: RichMessage) => stripControls(renderPlainText(content));

export function runTerminalChat(options: TerminalChatOptions): TerminalChat {
  const { input, output, isTTY, log } = options;
  const dispatcherReady = Promise.resolve(options.dispatcher);
  // A knowledge base that fails to load is reported when a message needs it, not as an unhandled rejection.
  dispatcherReady.catch(() => {});
  // Piped, readline gets no output: nothing but replies may reach stdout.
  const lines = createInterface({ input, ...(isTTY ? { output, terminal: true } : { terminal: false }) });
  const statusLine = new StatusLine(output);
  let externalStatus: string | null = null;
  let pending = 0;
  let closed = false;
  let messageCount = 0;
  let replyCount = 0;
  let continued: string[] = [];
  let replies = Promise.resolve();
  /** Work that will still print (running jobs): the chat ends only after it. */
  const tracked = new Set<Promise<unknown>>();
  /** The text of each message sent, by id, and which one was printed last (for edits in place). */
  const sentTexts = new Map<string, string>();
  let lastPrinted: string | null = null;
  /** Shows "thinking…" when an answer takes a while (TTY only); the first reply printed ends it. */
  let thinking: NodeJS.Timeout | undefined;

  /** Prints a reply; on a TTY, above the prompt when one is showing, which is then drawn again. */
  function print(text: string, messageId: string, continuesLast = false): void {
    if (isTTY) {
      clearTimeout(thinking);
      statusLine.clear();
      output.write(`${CLEAR_LINE}${REPLY_LEAD}${text}\n`);
    } else {
      output.write(`${lastPrinted !== null && !continuesLast ? '\n' : ''}${text}\n`);
    }
    lastPrinted = messageId;
    prompt();
  }

  const sender: MessageSender & MessageEditor = {
    async send(to, content): Promise<MessageRef> {
      const text = printable(content);
      replyCount += 1;
      const messageId = `bot-${replyCount}`;
      sentTexts.set(messageId, text);
      print(text, messageId);
      return { conversation: to, messageId };
    },
    async edit(ref, content) {
      const text = printable(content);
      const before = sentTexts.get(ref.messageId);
      if (before === undefined || before === text) return;
      sentTexts.set(ref.messageId, text);
      // Only a message on one screen row can be rewritten by going up one row.
      const columns = (output as { columns?: number }).columns || 80;
      const oneRow = (line: string) => !line.includes('\n') && REPLY_LEAD.length + line.length < columns;
      const inPlace = lastPrinted === ref.messageId && oneRow(before) && oneRow(text);
      if (isTTY && inPlace) {
        // The message is the line just above the prompt (or the empty line a reply left).
        output.write(`${CLEAR_LINE}${LINE_UP}${CLEAR_LINE}${REPLY_LEAD}${text}\n`);
        prompt();
      } else {
        print(text, ref.messageId, lastPrinted === ref.messageId);
      }
    },
  };

  const surface: DispatchSurface = {
    platform: 'terminal',
    sender,
    track(work: Promise<unknown>) {
      const settled = work
        .catch((error: unknown) => log.error({ err: error }, 'a job reply failed'))
        .finally(() => tracked.delete(settled));
      tracked.add(settled);
    },
  };

  const prompt = () => {
    if (!isTTY || closed || pending > 0 || externalStatus !== null) return;
    lines.setPrompt(continued.length > 0 ? CONTINUATION_PROMPT : PROMPT);
    lines.prompt(true);
  };

  async function respond(message: IncomingMessage): Promise<void> {
    if (isTTY)
      thinking = setTimeout(() => externalStatus === null && statusLine.show('thinking…'), THINKING_DELAY_MS);
    try {
      const dispatcher = await dispatcherReady.catch((error: unknown) => {
        log.error({ err: error }, 'the terminal chat has no router to answer with');
        return null;
      });
      if (dispatcher) await dispatcher.message(message, surface);
      else await sender.send(message.conversation, KNOWLEDGE_BASE_FAILED, { replyTo: message.id });
    } finally {
      clearTimeout(thinking);
      if (externalStatus === null) statusLine.clear();
    }
  }

  function submit(text: string): void {
    messageCount += 1;
    const message: IncomingMessage = {
      id: `terminal-${messageCount}`,
      conversation: CONVERSATION,
      author: USER,
      text,
      isDirect: true,
      mentionsBot: false,
      attachments: [],
    };
    pending += 1;
    replies = replies
      .then(() => respond(message))
      .catch((error: unknown) => log.error({ err: error }, 'could not print a reply'))
      .finally(() => {
        pending -= 1;
        prompt();
      });
  }

  // A message is held a moment: a code block pasted on the lines right after it ("!build", then the
  // fenced code) belongs to it.
  let held: string | null = null;
  let holdTimer: NodeJS.Timeout | undefined;
  const flushHeld = () => {
    clearTimeout(holdTimer);
    if (held === null) return;
    const text = held;
    held = null;
    submit(text);
  };

  lines.on('line', (line) => {
    if (held !== null && continued.length === 0 && FENCE_LINE.test(line)) {
      continued = [held];
      held = null;
      clearTimeout(holdTimer);
    } else {
      flushHeld();
    }
    if (line.endsWith('\\')) {
      continued.push(line.slice(0, -1));
      prompt();
      return;
    }
    const text = [...continued, line].join('\n');
    // A pasted code block is one message: keep reading until its fence is closed.
    if (closeOpenFence(text) !== text) {
      continued.push(line);
      prompt();
      return;
    }
    continued = [];
    if (QUIT_COMMANDS.has(text.trim())) {
      lines.close();
    } else if (text.trim() === '') {
      prompt();
    } else {
      held = text;
      holdTimer = setTimeout(flushHeld, PASTE_JOIN_MS);
    }
  });
  // Ctrl-C leaves, as Ctrl-D does.
  lines.on('SIGINT', () => lines.close());

  const finished = new Promise<void>((resolve) => {
    lines.on('close', () => {
      closed = true;
      flushHeld();
      // Input ended inside a continued message: it is still a message.
      if (continued.join('').trim() !== '') submit(continued.join('\n'));
      continued = [];
      void replies.then(async () => {
        if (tracked.size > 0 && isTTY) statusLine.show('waiting for the running jobs’ results…');
        while (tracked.size > 0) await Promise.allSettled([...tracked]);
        statusLine.clear();
        if (isTTY) output.write('\n');
        resolve();
      });
    });
  });

  prompt();

  return {
    status(text) {
      if (!isTTY) return;
      externalStatus = text;
      if (text === null) {
        statusLine.clear();
        prompt();
      } else {
        statusLine.show(text);
      }
    },
    finished,
  };
}

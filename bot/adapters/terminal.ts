/**
 * The bot as a chat in this terminal. On a TTY: a `you> ` prompt, `bot> ` replies, a spinner while
 * something is slow, Ctrl-D or /quit to leave. Piped: one message per line (a trailing backslash
 * continues it on the next line), each reply printed in order, and done at end of input.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../config/logger.ts';
import type { MessageRef, MessageSender } from '../capabilities.ts';
import type { Author, ConversationRef, IncomingMessage } from '../message.ts';
import { renderPlainText } from '../render-text.ts';
import { type RichMessage, textMessage } from '../rich-message.ts';
import type { Router } from '../router.ts';
import { StatusLine } from './status-line.ts';

export interface TerminalChatOptions {
  /** A promise lets the chat start (and show a status) while the knowledge base is still loading. */
  router: Router | Promise<Router>;
  input: Readable;
  output: Writable;
  isTTY: boolean;
  log: Logger;
}

export interface TerminalChat {
  /** On a TTY, shows a spinner with this text until `status(null)`; piped, does nothing. */
  status(text: string | null): void;
  /** Settles once the input has ended (EOF, Ctrl-D, /quit) and every reply has been printed. */
  finished: Promise<void>;
}

const PROMPT = 'you> ';
const CONTINUATION_PROMPT = '...> ';
const REPLY_LEAD = 'bot> ';
const QUIT_COMMANDS = new Set(['/quit', '/exit']);
/** Answers faster than this get no spinner: it would only flicker. */
const THINKING_DELAY_MS = 250;

const CONVERSATION: ConversationRef = { roomId: 'terminal' };
const USER: Author = { id: 'terminal', name: 'you' };

export function runTerminalChat(options: TerminalChatOptions): TerminalChat {
  const { input, output, isTTY, log } = options;
  const routerReady = Promise.resolve(options.router);
  // A router that fails to load is reported when a message needs it, not as an unhandled rejection.
  routerReady.catch(() => {});
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

  const sender: MessageSender = {
    async send(to, content): Promise<MessageRef> {
      const text = renderPlainText(content);
      output.write(isTTY ? `${REPLY_LEAD}${text}\n` : `${replyCount > 0 ? '\n' : ''}${text}\n`);
      replyCount += 1;
      return { conversation: to, messageId: `bot-${replyCount}` };
    },
  };

  const prompt = () => {
    if (!isTTY || closed || pending > 0 || externalStatus !== null) return;
    lines.setPrompt(continued.length > 0 ? CONTINUATION_PROMPT : PROMPT);
    lines.prompt(true);
  };

  async function reply(message: IncomingMessage): Promise<RichMessage | null> {
    try {
      return await (await routerReady).handle(message);
    } catch (error) {
      // The router never throws; this is the knowledge base failing to load.
      log.error({ err: error }, 'the terminal chat has no router to answer with');
      return textMessage(
        'Sorry, I’m not able to answer right now: my knowledge base failed to load. See the log.',
      );
    }
  }

  async function respond(message: IncomingMessage): Promise<void> {
    const thinking = isTTY
      ? setTimeout(() => externalStatus === null && statusLine.show('thinking…'), THINKING_DELAY_MS)
      : null;
    const content = await reply(message);
    if (thinking) clearTimeout(thinking);
    if (externalStatus === null) statusLine.clear();
    if (content) await sender.send(message.conversation, content, { replyTo: message.id });
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

  lines.on('line', (line) => {
    if (line.endsWith('\\')) {
      continued.push(line.slice(0, -1));
      prompt();
      return;
    }
    const text = [...continued, line].join('\n');
    continued = [];
    if (QUIT_COMMANDS.has(text.trim())) {
      lines.close();
    } else if (text.trim() === '') {
      prompt();
    } else {
      submit(text);
    }
  });
  // Ctrl-C leaves, as Ctrl-D does.
  lines.on('SIGINT', () => lines.close());

  const finished = new Promise<void>((resolve) => {
    lines.on('close', () => {
      closed = true;
      // Input ended inside a continued message: it is still a message.
      if (continued.join('').trim() !== '') submit(continued.join('\n'));
      continued = [];
      void replies.then(() => {
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

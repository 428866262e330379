/** A one-line spinner with a status text, redrawn in place on a terminal. */
import type { Writable } from 'node:stream';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 80;
const CLEAR_LINE = '\r\u001b[2K';

export class StatusLine {
  readonly #output: Writable;
  #timer: NodeJS.Timeout | null = null;
  #frame = 0;
  #text = '';

  constructor(output: Writable) {
    this.#output = output;
  }

  get visible(): boolean {
    return this.#timer !== null;
  }

  show(text: string): void {
    this.#text = text;
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#draw(), FRAME_MS);
      // A spinner must never keep the process alive on its own.
      this.#timer.unref();
    }
    this.#draw();
  }

  clear(): void {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = null;
    this.#output.write(CLEAR_LINE);
  }

  #draw(): void {
    this.#frame = (this.#frame + 1) % FRAMES.length;
    this.#output.write(`${CLEAR_LINE}${FRAMES[this.#frame]} ${this.#text}`);
  }
}

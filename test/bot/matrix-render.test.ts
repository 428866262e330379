/** Matrix rendering: the plain body and the HTML say the same thing, code stays code, nothing is injected. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderMatrix } from '../../bot/adapters/matrix/render.ts';

const source = {
  title: 'Quick Start',
  url: 'https://example.org/v6.1/quick-start.rst',
  kernelVersion: '6.1.50',
};

test('a code block is <pre><code> in HTML and fenced in the plain body', () => {
  const text = renderMatrix({
    lead: 'Build it with `make LLVM=1`:',
    code: { language: 'rust', text: 'fn main() {\n    let x = 1 < 2;\n}\n' },
    details: ['Then load it.'],
    sources: [source],
  });
  assert.equal(
    text.body,
    'Build it with `make LLVM=1`:\n```rust\nfn main() {\n    let x = 1 < 2;\n}\n```\nThen load it.\n' +
      'Sources: [1] Quick Start (6.1) <https://example.org/v6.1/quick-start.rst>',
  );
  assert.equal(
    text.html,
    '<p>Build it with <code>make LLVM=1</code>:</p>' +
      '<pre><code class="language-rust">fn main() {\n    let x = 1 &#60; 2;\n}</code></pre>' +
      '<p>Then load it.</p>' +
      '<p>Sources: [1] <a href="https://example.org/v6.1/quick-start.rst">Quick Start</a> (6.1)</p>',
  );
});

test('user text cannot inject markup, and a language tag cannot break out of its attribute', () => {
  const text = renderMatrix({
    lead: '<img src=x onerror=alert(1)> @room',
    code: { language: '"><script>', text: '</code></pre><b>' },
    details: [],
    sources: [],
  });
  assert.doesNotMatch(text.html, /<img|<script|<b>|<\/code><\/pre><b>/);
  assert.match(text.html, /^<p>&#60;img/);
  assert.match(text.html, /<pre><code>&#60;\/code&#62;/);
});

test('a log too big for one Matrix event is trimmed inside its code block, and says so', () => {
  const lines = Array.from({ length: 4000 }, (_, n) => `line ${n}: warning: unused variable \`x\``);
  const text = renderMatrix({
    lead: 'The build log:',
    code: { language: '', text: lines.join('\n') },
    details: [],
    sources: [],
  });
  assert.ok(Buffer.byteLength(text.body) + Buffer.byteLength(text.html) < 60_000);
  assert.match(text.body, /^The build log:\n```\nline 0:/);
  assert.match(text.body, /\[… \d+ more lines not shown\]\n```$/);
  assert.match(text.html, /more lines not shown\]<\/code><\/pre>$/);
});

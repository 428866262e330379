/** Small kernel trees written on the fly, in our own words, for retrieval and knowledge-base tests. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FixtureTree {
  version: string;
  rustc: string;
  bindgen: string;
  /** Extra sentence in the configuration section, to tell the versions apart. */
  configNote: string;
}

export function writeKernelTree(root: string, tree: FixtureTree): string {
  const [version, patchlevel, sublevel] = tree.version.split('.');
  const write = (path: string, text: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write(
    'Makefile',
    `VERSION = ${version}\nPATCHLEVEL = ${patchlevel}\nSUBLEVEL = ${sublevel}\nEXTRAVERSION =\n`,
  );
  write(
    'scripts/min-tool-version.sh',
    `#!/bin/sh\ncase "$1" in\ngcc)\n\techo 5.1.0\n\t;;\nrustc)\n\techo ${tree.rustc}\n\t;;\nbindgen)\n\techo ${tree.bindgen}\n\t;;\nesac\n`,
  );
  write(
    'Documentation/rust/quick-start.rst',
    [
      'Quick Start',
      '===========',
      '',
      'How to get a kernel with Rust going.',
      '',
      'Configuration',
      '-------------',
      '',
      `Turn on "Rust support" (CONFIG_RUST) under General setup once the toolchain checks pass. ${tree.configNote}`,
      '',
      'Editors',
      '-------',
      '',
      'The rust-analyzer language server needs a project file, made with ``make LLVM=1 rust-analyzer``.',
      '',
    ].join('\n'),
  );
  return root;
}

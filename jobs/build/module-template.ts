/**
 * A ready-to-edit minimal module for a kernel series, answered to a `!build` without code. The kernel
 * crate's API changes between versions (6.1 takes byte strings in `module!` and has no `authors`), so
 * each series gets the shape its samples/rust/rust_minimal.rs uses; the 6.1 one is built in the tests.
 */

const MODULE_6_1 = `// SPDX-License-Identifier: GPL-2.0

//! A first Rust module: prints a line when loaded and another when unloaded.

use kernel::prelude::*;

module! {
    type: Hello,
    name: b"hello",
    author: b"Your Name",
    description: b"A first Rust kernel module",
    license: b"GPL",
}

struct Hello;

impl kernel::Module for Hello {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("Hello from Rust (init)\\n");
        Ok(Hello)
    }
}

impl Drop for Hello {
    fn drop(&mut self) {
        pr_info!("Goodbye from Rust (exit)\\n");
    }
}
`;

/** Kernel series whose template has been built against that series' tree. */
const TEMPLATES: Record<string, string> = { '6.1': MODULE_6_1 };

/** The template for a series; other series get the 6.1 one, the only tree provisioned today. */
export function minimalModule(series: string): string {
  return TEMPLATES[series] ?? MODULE_6_1;
}

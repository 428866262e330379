/**
 * A ready-to-edit minimal module for a kernel series, answered to a `!build` without code. The kernel
 * crate's API changes between versions (6.1 takes byte strings in `module!`, 6.12 plain strings), so
 * each series gets the shape its samples/rust/rust_minimal.rs uses; both are built in the tests.
 */

import { compareVersions } from '../kernel/version.ts';

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

/** The same for 6.12 and later: plain strings in `module!`. */
const MODULE_6_12 = MODULE_6_1.replace(/\bb"/g, '"');

/** The series the template is for when the user names none: the default of kernel.default. */
export const TEMPLATE_DEFAULT_SERIES = '6.12';

/** The template for a series: 6.1's for 6.1 and older, 6.12's for every newer one. */
export function minimalModule(series: string): string {
  return compareVersions(series, '6.1') <= 0 ? MODULE_6_1 : MODULE_6_12;
}

/** A passage is the unit the knowledge base indexes, retrieves and cites. */

/** What kind of source a passage came from; retrieval and answer formatting differ a little by kind. */
export type PassageKind =
  | 'doc' // a section of reStructuredText or Markdown prose
  | 'rust-doc' // doc comments (`//!`, `///`) of rust/kernel or rust/macros, with the item they document
  | 'sample' // a samples/rust module: its module docs and code
  | 'tool-versions' // the minimum tool versions table of scripts/min-tool-version.sh, stated as facts
  | 'faq'; // an entry of the project's curated FAQ

/** One indexed tree: a kernel source tree, a Markdown site checkout, or the FAQ. */
export interface TreeInfo {
  /** Stable id, unique in one knowledge base, e.g. `linux-6.1.192`, `rust-for-linux.com`, `faq`. */
  id: string;
  /** Absolute path of the tree's root on disk when it was ingested. */
  root: string;
  /** Kernel version from the tree's Makefile (`6.1.192`), or null where the tree has none. */
  kernelVersion: string | null;
}

export interface Passage {
  /** Stable and unique in one knowledge base: `${tree}:${path}#${anchor or line}`. */
  id: string;
  /** TreeInfo.id of the tree it came from. */
  tree: string;
  /** Kernel version this passage belongs to (copied from its tree), or null when unversioned. */
  kernelVersion: string | null;
  /** Path of the source file relative to the tree root, with forward slashes. */
  path: string;
  /** Heading path from the document title down to this section, e.g. ['Quick Start', 'Requirements: Building', 'bindgen']. */
  sectionPath: string[];
  /** Anchor of the section in the rendered page (docs.kernel.org / Markdown slug), or null. */
  anchor: string | null;
  kind: PassageKind;
  /** Prose with markup removed, paragraphs separated by blank lines. */
  text: string;
  /** Code and literal blocks, verbatim, in document order. */
  code: string[];
  /** Canonical link: a version-pinned docs page and anchor, or a source link with line numbers. */
  url: string;
  /** First and last line (1-based) of the passage in its source file. */
  lines: [number, number];
  /** Words a reader would search for that the text may not use (an FAQ entry's aliases): indexed with the
   * title, never shown. */
  keywords?: string[];
}

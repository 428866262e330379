/**
 * The words that say what a message is about, each written once: the bot's domain (Rust, the kernel,
 * its toolchain and hardware), general technical talk, and the topics it does not cover. The patterns
 * that classify messages (intent.ts), judge retrieval (retrieve.ts) and read versions and vocabulary
 * (query-hints.ts) are built here from these lists.
 *
 * Every list is fixed words between \b, with bounded gaps and \w* only right before the closing \b,
 * so each pattern reads a bounded stretch from each position: linear on any message.
 */

/** Programs of the toolchain, as questions name them (often with a version). */
const TOOLCHAIN = [
  'rustc',
  'bindgen',
  '(?:lib)?clang',
  'llvm',
  'lld',
  'gcc\\w*',
  'cargo',
  'clippy',
  'pahole',
];

/** Architectures the kernel (and its Rust support) runs on. */
const ARCHITECTURES = ['arm64', 'aarch64', 'x86(?:_64)?', 'risc-?v', 'loongarch', 'powerpc'];

/** Distributions with numbered releases: a number after their name is the release, not a kernel. */
const RELEASED_DISTRIBUTIONS = ['ubuntu', 'debian', 'fedora', 'opensuse', 'suse', 'nixos', 'nix', 'alpine'];
/** Rolling distributions: "Arch Linux 6.1" names the kernel. */
const ROLLING_DISTRIBUTIONS = ['arch ?linux', 'gentoo'];

/** Rust, the kernel, its configuration and toolchain: the words nearly every question to the bot uses. */
const RUST_AND_KERNEL = [
  'kernels?',
  'linux',
  'rust\\w*',
  'crates?',
  'kconfig',
  'menuconfig',
  'modules?',
  'drivers?',
  'unsafe',
  'toolchains?',
  ...TOOLCHAIN,
];

/**
 * The bot's domain: Rust and the kernel, its build and configuration tooling, its development process,
 * and the hardware words kernel questions use. Deliberately plain and broad — a message using any of
 * these is a kernel question (full abstention when the docs miss), so only messages about something
 * else entirely get the brief off-topic reply.
 */
const DOMAIN = [
  ...RUST_AND_KERNEL,
  'rfl',
  'r4l',
  'kbuild',
  'defconfig',
  'makefiles?',
  'compilers?',
  'linkers?',
  'kunit',
  'doc-?tests?',
  'insmod',
  'modprobe',
  'rmmod',
  'lsmod',
  'dmesg',
  'printk',
  'syscalls?',
  'subsystems?',
  'maintainers?',
  'patch(?:es|set)?',
  'upstream\\w*',
  'mailing list',
  'lkml',
  'vger',
  'zulip',
  'merge window',
  'abstractions?',
  'bindings?',
  'ffi',
  'no_std',
  'devicetree',
  'device tree',
  'firmware',
  'qemu',
  'initramfs',
  'vmlinux',
  'bzimage',
  ...ARCHITECTURES,
  'spinlocks?',
  'mutex\\w*',
  'interrupts?',
  'dma',
  'pci\\w*',
  'usb',
];

/**
 * Words of technical talk in general: with RUST_AND_KERNEL, they keep a message a question for retrieval
 * to judge ("how do I build …" may be about anything), but they do not make it a kernel question. The
 * wider domain words do not keep a message a question: "the weather on arm64" is about the weather.
 */
const TECHNICAL_TALK = [
  'config\\w*',
  'make',
  'build\\w*',
  'compil\\w*',
  'error',
  'docs?',
  'lints?',
  'macros?',
  'patch\\w*',
];

/**
 * Everyday life and entertainment: docs share words with anything ("match", "cat"), so a request about
 * these is answered off-topic before retrieval, unless it also uses a technical word.
 */
const EVERYDAY_TOPICS = [
  'recipes?',
  'cooking',
  'weather',
  'horoscope',
  'football',
  'soccer',
  'basketball',
  'stock price',
  'lottery',
  'tell me a (?:joke|story)',
  'write (?:me )?an? (?:poem|song|story|essay)',
];

/**
 * Topics near ours that the docs do not cover, whatever words a question shares with them ("a Windows
 * kernel driver crate" matches "merge window", "crate", "driver"): other operating systems' kernels,
 * other languages for kernel code, and desktop and web application stacks.
 */
const OTHER_PLATFORMS = [
  'windows',
  'win32',
  'wdm',
  'kmdf',
  'macos',
  'mac os',
  'os x',
  'darwin',
  'xnu',
  'kext',
  'freebsd',
  'openbsd',
  'netbsd',
  'redox',
  'fuchsia',
  'zircon',
  'zephyr',
  'illumos',
  'solaris',
  'zig',
  'c\\+\\+',
  'golang',
  'swift',
  'tauri',
  'electron',
  'gtk',
  'webkit\\w*',
  'qt',
  'react',
  'django',
  'flask',
  'aya',
  'desktop app\\w*',
  'web ?app\\w*',
  'website builder',
];

/** Any of `words` as a whole word (or phrase). */
function anyWord(words: readonly string[], flags: string): RegExp {
  return new RegExp(`\\b(?:${words.join('|')})\\b`, flags);
}

/** Words of the domain in a message, all of them (`g`: for matchAll). */
export const DOMAIN_WORDS = anyWord(DOMAIN, 'gi');
/** Any word that makes a lowercased message technical, or a code span. */
export const TECHNICAL_WORDS = new RegExp(
  `${anyWord([...RUST_AND_KERNEL, ...TECHNICAL_TALK], '').source}|\``,
);
export const EVERYDAY_WORDS = anyWord(EVERYDAY_TOPICS, '');
export const OTHER_PLATFORM_WORDS = anyWord(OTHER_PLATFORMS, 'i');
export const DISTRIBUTION_WORDS = anyWord(
  [...RELEASED_DISTRIBUTIONS, ...ROLLING_DISTRIBUTIONS, 'distros?', 'distributions?'],
  'i',
);
export const ARCHITECTURE_WORDS = anyWord(
  [...ARCHITECTURES, 'raspberry', 'architectures?', 'arch', 'platforms?'],
  'i',
);
/** What a number after them is the version of, when it is not the kernel's. */
const VERSIONED = [
  ...TOOLCHAIN,
  'rust',
  'binutils',
  'python',
  'make',
  ...RELEASED_DISTRIBUTIONS,
  'version of rust',
  'rust version',
];
/** A versioned word at the end of a text ("rustc ", "Ubuntu v"): a number right after it is its version. */
export const TOOL_WORDS_AT_END = new RegExp(`\\b(?:${VERSIONED.join('|')})\\s*(?:v(?:ersion)?\\s*)?$`, 'i');

/** Canonical links: version-pinned kernel docs and sources, and the sites Markdown trees are published on. */
import { basename } from 'node:path';

/** The git tag of a kernel version: 6.1.192 → v6.1.192, 6.8.0 → v6.8, 6.8.0-rc3 → v6.8-rc3. */
function kernelTag(version: string): string {
  return `v${version.replace(/^(\d+\.\d+)\.0(?=$|-)/, '$1')}`;
}

/** A rendered Documentation/ page: kernel.org's docs of that release, or docs.kernel.org for unversioned trees. */
export function kernelDocUrl(version: string | null, path: string, anchor: string | null): string {
  const page = path.replace(/^Documentation\//, '').replace(/\.rst$/, '.html');
  const fragment = anchor ? `#${anchor}` : '';
  const release = version ? /^\d+\.\d+/.exec(version)?.[0] : undefined;
  return release
    ? `https://www.kernel.org/doc/html/v${release}/${page}${fragment}`
    : `https://docs.kernel.org/${page}${fragment}`;
}

/** A source file at a line: Elixir for a released version, the mainline git tree otherwise. */
export function kernelSourceUrl(version: string | null, path: string, line: number): string {
  return version
    ? `https://elixir.bootlin.com/linux/${kernelTag(version)}/source/${path}#L${line}`
    : `https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/${path}#n${line}`;
}

/** Markdown trees whose published address is known, by the name of their folder. */
const KNOWN_SITES: Record<string, (path: string) => string> = {
  'rust-for-linux.com': (path) =>
    path.startsWith('src/')
      ? `https://rust-for-linux.com/${pageStem(path)
          .toLowerCase()
          .replace(/[^a-z0-9_-]/g, '')}`
      : `https://github.com/Rust-for-Linux/rust-for-linux.com/blob/main/${path}`,
  'rust-out-of-tree-module': (path) =>
    /^readme\.md$/i.test(path)
      ? 'https://github.com/Rust-for-Linux/rust-out-of-tree-module'
      : `https://github.com/Rust-for-Linux/rust-out-of-tree-module/blob/main/${path}`,
};

/** A Markdown page: its known site, else `baseUrl` + path as .html, else the path itself; plus the anchor. */
export function markdownUrl(root: string, path: string, anchor: string | null, baseUrl?: string): string {
  const site = KNOWN_SITES[basename(root)];
  const fragment = anchor ? `#${anchor}` : '';
  if (site) return site(path) + fragment;
  if (baseUrl) return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/\.md$/i, '.html')}${fragment}`;
  return path + fragment;
}

function pageStem(path: string): string {
  return basename(path).replace(/\.md$/i, '');
}

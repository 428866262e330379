/** The `case` table of scripts/min-tool-version.sh: the minimum version of each build tool. */

export interface MinToolVersion {
  tool: string;
  /** The version printed when no condition applies. */
  version: string;
  /** Versions printed under a condition, e.g. `{ when: 'SRCARCH is loongarch', version: '18.0.0' }`. */
  conditional: { when: string; version: string }[];
}

export interface MinToolTable {
  tools: MinToolVersion[];
  /** 1-based lines of `case` and `esac`, or null when the script has no table. */
  lines: [number, number] | null;
}

export function parseMinToolTable(text: string): MinToolTable {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((line) => /^\s*case\s/.test(line));
  const end = lines.findIndex((line, index) => index > start && /^\s*esac\b/.test(line));
  if (start < 0 || end < 0) return { tools: [], lines: null };
  const tools: MinToolVersion[] = [];
  let current: MinToolVersion | null = null;
  let condition: string | null = null;
  for (const line of lines.slice(start + 1, end)) {
    const pattern = /^\s*([\w|.-]+)\)\s*$/.exec(line);
    const test = /^\s*(?:if|elif)\s+(.*?);?\s*then\s*$/.exec(line);
    const echo = /^\s*echo\s+"?(\d[\w.-]*)"?\s*$/.exec(line);
    if (pattern) {
      current = { tool: pattern[1]!, version: '', conditional: [] };
      condition = null;
    } else if (/^\s*;;/.test(line)) {
      if (current?.version) tools.push(current);
      current = null;
    } else if (test) {
      condition = describeTest(test[1]!);
    } else if (/^\s*(else|fi)\b/.test(line)) {
      condition = null;
    } else if (echo && current) {
      if (condition) current.conditional.push({ when: condition, version: echo[1]! });
      else current.version = echo[1]!;
    }
  }
  return { tools, lines: [start + 1, end + 1] };
}

/** `[ "$SRCARCH" = loongarch ]` reads as `SRCARCH is loongarch`; anything else is kept as written. */
function describeTest(test: string): string {
  const equality = /^\[\s*"?\$\{?(\w+)\}?"?\s*=+\s*"?([\w.-]+)"?\s*\]$/.exec(test.trim());
  return equality ? `${equality[1]} is ${equality[2]}` : test.trim();
}

/** Tool name → default minimum version (conditional ones are in `parseMinToolTable`). */
export function parseMinToolVersions(text: string): Record<string, string> {
  return Object.fromEntries(parseMinToolTable(text).tools.map((tool) => [tool.tool, tool.version]));
}

const TOOL_NAMES: Record<string, string> = { llvm: 'LLVM/Clang (llvm)', gcc: 'GCC (gcc)' };

/** The table as sentences a bot can quote: "Linux 6.1.192 needs at least rustc 1.62.0 and bindgen 0.56.0 ...". */
export function minToolVersionFacts(tools: MinToolVersion[], kernelVersion: string | null): string {
  const linux = `Linux ${kernelVersion ?? 'mainline'}`;
  const stated = (tool: MinToolVersion) => {
    const name = TOOL_NAMES[tool.tool] ?? tool.tool;
    const conditions = tool.conditional.map((entry) => `${entry.version} when ${entry.when}`);
    return `${name} ${tool.version}${conditions.length > 0 ? ` (${conditions.join('; ')})` : ''}`;
  };
  const rust = tools.filter((tool) => tool.tool === 'rustc' || tool.tool === 'bindgen');
  const others = tools.filter((tool) => !rust.includes(tool));
  const sentences = [
    rust.length > 0
      ? `${linux} needs at least ${rust.map(stated).join(' and ')} to build its Rust support.`
      : `${linux} sets no minimum rustc or bindgen version in scripts/min-tool-version.sh.`,
  ];
  if (others.length > 0) {
    sentences.push(`Minimum versions of the other tools for ${linux}: ${others.map(stated).join(', ')}.`);
  }
  sentences.push(`These minimums come from scripts/min-tool-version.sh.`);
  return sentences.join(' ');
}

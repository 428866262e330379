/**
 * Loads the configuration from an optional YAML file and the environment, validates it against
 * the schema, and reports every problem at once in a form that fits on one screen.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { editDistance } from './closest.ts';
import { type Config, configSchema } from './schema.ts';

export const ENV_PREFIX = 'RFL_';

/** A leaf setting as the environment and the sample config see it. */
export interface Setting {
  path: string[];
  env: string;
  type: 'string' | 'number' | 'integer' | 'boolean' | 'array';
  secret: boolean;
  description: string;
  default: unknown;
  choices?: string[];
}

interface JsonSchemaNode {
  type?: string;
  properties?: Record<string, JsonSchemaNode>;
  description?: string;
  default?: unknown;
  enum?: string[];
  secret?: boolean;
}

const screamingSnake = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** Every leaf of the schema, in declaration order. */
export function settings(): Setting[] {
  const out: Setting[] = [];
  const walk = (node: JsonSchemaNode, path: string[]) => {
    if (node.type === 'object' && node.properties) {
      for (const [key, child] of Object.entries(node.properties)) walk(child, [...path, key]);
      return;
    }
    const type = (node.enum ? 'string' : node.type) as Setting['type'];
    out.push({
      path,
      env: ENV_PREFIX + path.map(screamingSnake).join('_'),
      type,
      secret: node.secret === true,
      description: node.description ?? '',
      default: node.default,
      ...(node.enum ? { choices: node.enum } : {}),
    });
  };
  walk(z.toJSONSchema(configSchema, { io: 'input' }) as JsonSchemaNode, []);
  return out;
}

export type LoadResult = { ok: true; config: Config; warnings: string[] } | { ok: false; problems: string[] };

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Config file path; default: $RFL_CONFIG, else none. */
  file?: string;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown) {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

function fromEnvString(setting: Setting, raw: string): unknown {
  switch (setting.type) {
    case 'number':
    case 'integer':
      return raw.trim() === '' || Number.isNaN(Number(raw)) ? raw : Number(raw);
    case 'boolean':
      return /^(1|true|yes|on)$/i.test(raw) ? true : /^(0|false|no|off)$/i.test(raw) ? false : raw;
    case 'array':
      try {
        return JSON.parse(raw);
      } catch {
        return raw;
      }
    default:
      return raw;
  }
}

export function loadConfig(options: LoadOptions = {}): LoadResult {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const warnings: string[] = [];
  const file = options.file ?? env.RFL_CONFIG;
  let input: Record<string, unknown> = {};

  if (file) {
    try {
      const parsed = parseYaml(readFileSync(file, 'utf8')) ?? {};
      if (typeof parsed !== 'object' || Array.isArray(parsed))
        problems.push(`${file}: expected a mapping of settings`);
      else input = parsed as Record<string, unknown>;
    } catch (error) {
      problems.push(`${file}: ${(error as Error).message.split('\n')[0]}`);
    }
  }

  const known = settings();
  const byEnv = new Map(known.map((s) => [s.env, s]));
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || !name.startsWith(ENV_PREFIX) || name === 'RFL_CONFIG') continue;
    const fileVar = name.endsWith('_FILE') ? byEnv.get(name.slice(0, -'_FILE'.length)) : undefined;
    if (fileVar?.secret) {
      try {
        setPath(input, fileVar.path, readFileSync(raw, 'utf8').trim());
      } catch (error) {
        problems.push(`${name}: cannot read ${raw}: ${(error as NodeJS.ErrnoException).code ?? error}`);
      }
      continue;
    }
    const setting = byEnv.get(name);
    if (!setting) {
      problems.push(`${name}: unknown setting${suggest(name, [...byEnv.keys()])}`);
      continue;
    }
    setPath(input, setting.path, fromEnvString(setting, raw));
  }
  // The kernel community's usual variable, honoured as the default tree.
  if (env.KERNEL_SRC && !env.RFL_KERNEL_SRC) setPath(input, ['kernel', 'src'], env.KERNEL_SRC);

  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const where = issue.path.join('.') || '(top level)';
      if (issue.code === 'unrecognized_keys') {
        // Sections count as names too, so a misspelt section gets a suggestion.
        const paths = [
          ...new Set(known.flatMap((s) => s.path.map((_, i) => s.path.slice(0, i + 1).join('.')))),
        ];
        for (const key of issue.keys) {
          const full = [...issue.path, key].join('.');
          problems.push(`${full}: unknown setting${suggest(full, paths)}`);
        }
      } else problems.push(`${where}: ${issue.message}${sourceHint(issue.path, known)}`);
    }
  }
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  const config = parsed.data;
  config.cacheDir = resolve(
    config.cacheDir || join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'rfl-onboard'),
  );
  if (config.llm.baseUrl && !config.llm.model)
    warnings.push('llm.baseUrl is set but llm.model is empty: answers stay extractive');
  return { ok: true, config, warnings };
}

function sourceHint(path: PropertyKey[], known: Setting[]): string {
  const setting = known.find((s) => s.path.join('.') === path.join('.'));
  return setting ? ` (file key ${setting.path.join('.')} or ${setting.env})` : '';
}

/** "did you mean" for the closest known name by edit distance. */
function suggest(name: string, candidates: string[]): string {
  let best = '';
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(2, name.length / 4) ? ` (did you mean ${best}?)` : '';
}

/** The one-screen message for a config that cannot be used. */
export function formatProblems(problems: string[]): string {
  return [
    'rfl-onboard: the configuration has problems:',
    ...problems.map((p) => `  - ${p}`),
    'Settings come from the file named by RFL_CONFIG (YAML) and RFL_* environment variables;',
    'config/rfl-onboard.sample.yaml lists every one with its default.',
  ].join('\n');
}

/** Renders the sample config file from the schema: every setting, its default, its env var. */
import { stringify } from 'yaml';
import { settings } from './load.ts';

export function renderSampleConfig(): string {
  const lines = [
    '# rfl-onboard configuration: every setting with its default.',
    '# Generated from config/schema.ts by `npm run config:sample`; a test checks it is current.',
    '# Each setting can also be given as the environment variable named beside it;',
    '# secrets may instead be read from a file named by <VAR>_FILE.',
    '',
  ];
  let section = '';
  for (const s of settings()) {
    const indent = '  '.repeat(s.path.length - 1);
    if (s.path.length > 1 && s.path[0] !== section) {
      section = s.path[0]!;
      lines.push(`${section}:`);
    } else if (s.path.length === 1) section = '';
    const choices = s.choices ? ` One of: ${s.choices.join(', ')}.` : '';
    const secret = s.secret ? ` Secret: also ${s.env}_FILE.` : '';
    lines.push(`${indent}# ${s.description}${choices}`, `${indent}# env: ${s.env}${secret}`);
    const value = stringify({ [s.path.at(-1)!]: s.default ?? null }, { flow: false }).trimEnd();
    lines.push(...value.split('\n').map((l) => indent + l));
  }
  return `${lines.join('\n')}\n`;
}

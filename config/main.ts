/** `node config/main.ts sample` prints the sample config; `validate` checks the current settings. */
import { formatProblems, loadConfig } from './load.ts';
import { renderSampleConfig } from './sample.ts';

const command = process.argv[2];
if (command === 'sample') {
  process.stdout.write(renderSampleConfig());
} else if (command === 'validate') {
  const result = loadConfig();
  if (!result.ok) {
    console.error(formatProblems(result.problems));
    process.exit(1);
  }
  for (const warning of result.warnings) console.error(`warning: ${warning}`);
  console.log('configuration is valid');
} else {
  console.error('usage: node config/main.ts sample|validate');
  process.exit(2);
}

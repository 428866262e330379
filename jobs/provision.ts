/**
 * `npm run provision [-- --kernel <series>] [--no-boot]`: for every configured series (kernel.trees), or
 * the one named, fetches its toolchain and source into the cache dir and prepares its Rust-enabled tree
 * (progress on stderr), then prints what it found. A second run finds everything cached at once.
 */
import { parseArgs } from 'node:util';
import { formatProblems, loadConfig } from '../config/load.ts';
import { createLogger } from '../config/logger.ts';
import { kernelPlan } from './kernel/kernel-source.ts';
import type { PreparedTree } from './kernel/kernel-tree.ts';
import { provisionSeries } from './kernel/trees.ts';

function report(tree: PreparedTree, cached: boolean, seconds: number): string {
  const { environment: env } = tree;
  return [
    `kernel ${tree.kernelVersion} (series ${tree.series}) ${cached ? 'already prepared' : `fetched and prepared in ${seconds.toFixed(0)} s`}`,
    `toolchain: "${tree.toolchain.name}": ${env.rustc}, ${env.bindgen}, ${env.clang}`,
    'make rustavailable:',
    ...tree.rustAvailable.split('\n').map((line) => `  ${line}`),
    `source:    ${tree.sourceDir}`,
    `build dir: ${tree.buildDir}`,
    `bzImage:   ${tree.bzImage ?? '(not built: --no-boot)'}`,
    `samples:   ${tree.sampleModules.join(', ') || '(none built)'}`,
    `timings:   ${Object.entries(tree.timings)
      .map(([step, s]) => `${step} ${s.toFixed(1)} s`)
      .join(', ')}`,
  ].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { kernel: { type: 'string' }, 'no-boot': { type: 'boolean', default: false } },
  });
  const loaded = loadConfig();
  if (!loaded.ok) {
    console.error(formatProblems(loaded.problems));
    return 2;
  }
  const { config } = loaded;
  const log = createLogger({ logLevel: 'warn', logFormat: config.logFormat }, { interactive: true });
  const plan = kernelPlan(config.kernel, config.cacheDir);
  if (!plan.ok) {
    console.error(plan.failure.userText);
    return 2;
  }
  const chosen = plan.value.series.filter((series) => !values.kernel || series.series === values.kernel);
  if (chosen.length === 0) {
    console.error(
      `No series ${values.kernel} in kernel.trees (${plan.value.series.map((s) => s.series).join(', ')}).`,
    );
    return 2;
  }
  const onProgress = (text: string) => console.error(`… ${text}`);
  let failed = 0;
  for (const series of chosen) {
    const started = Date.now();
    const result = await provisionSeries(series, {
      cacheDir: config.cacheDir,
      log,
      boot: !values['no-boot'],
      onProgress,
    });
    if (result.ok) console.log(report(result.value.tree, result.value.cached, (Date.now() - started) / 1000));
    else {
      console.error(`Linux ${series.series}: ${result.failure.userText}`);
      failed += 1;
    }
  }
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();

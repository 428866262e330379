/**
 * `npm run provision [-- --kernel <src>] [--no-boot]`: finds the kernel source, prepares its Rust-enabled
 * tree and those of `kernel.extraTrees` (progress on stderr), and prints what it found. A second run
 * prints the cached trees at once.
 */
import { parseArgs } from 'node:util';
import { formatProblems, loadConfig } from '../config/load.ts';
import { createLogger } from '../config/logger.ts';
import { findKernelSource } from './kernel/kernel-source.ts';
import { type PreparedTree, prepareTree } from './kernel/kernel-tree.ts';

function report(tree: PreparedTree, cached: boolean, seconds: number): string {
  const { environment: env } = tree;
  return [
    `kernel ${tree.kernelVersion} (series ${tree.series}) ${cached ? 'already prepared' : `prepared in ${seconds.toFixed(0)} s`}`,
    `toolchain: ${env.rustc}, ${env.bindgen}, ${env.clang}`,
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
  const source = await findKernelSource({
    src: values.kernel ?? config.kernel.src,
    cacheDir: config.cacheDir,
    log,
  });
  if (!source.ok) {
    console.error(source.userMessage);
    return 1;
  }
  // The default tree, then the other configured versions (unless one source was named).
  const sources = [source.path, ...(values.kernel ? [] : config.kernel.extraTrees.map((tree) => tree.path))];
  let failed = 0;
  for (const path of sources) {
    const started = Date.now();
    const result = await prepareTree({
      source: path,
      cacheDir: config.cacheDir,
      log,
      boot: !values['no-boot'],
      onProgress: (text) => console.error(`… ${text}`),
    });
    if (result.ok) console.log(report(result.tree, result.cached, (Date.now() - started) / 1000));
    else {
      console.error(`${path}: ${result.userMessage}`);
      failed += 1;
    }
  }
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();

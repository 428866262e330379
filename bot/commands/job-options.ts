/** The options job commands share: `--boot` and `--kernel 6.1`, in any order, before the code. */
import type { Result } from '../../config/result.ts';
import { kernelSeries } from '../../jobs/kernel/version.ts';

export interface JobOptions {
  boot: boolean;
  kernel: string | null;
  /** What is left: a sample name, for `!sample`. */
  words: string[];
}

export function parseJobOptions(text: string, allowBoot: boolean): Result<JobOptions> {
  const options: JobOptions = { boot: false, kernel: null, words: [] };
  const tokens = text.split(/\s+/).filter(Boolean);
  const refuse = (userText: string): Result<JobOptions> => ({
    ok: false,
    failure: { userText, logText: 'refused job options', detail: { text }, userMistake: true },
  });
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    const [flag, inline] = token.split('=', 2) as [string, string | undefined];
    if (allowBoot && flag === '--boot') {
      options.boot = true;
    } else if (flag === '--kernel') {
      const value = inline ?? tokens[++index];
      if (!value || !/^\d+\.\d+(\.\d+)?$/.test(value)) {
        return refuse('--kernel takes a kernel series, like --kernel 6.1.');
      }
      options.kernel = kernelSeries(value);
    } else if (token.startsWith('-')) {
      return refuse(
        `I don’t know the option ${token}; I know ${allowBoot ? '--boot and ' : ''}--kernel <series>.`,
      );
    } else {
      options.words.push(token);
    }
  }
  return { ok: true, value: options };
}

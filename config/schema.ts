/**
 * The one configuration schema. Every setting can come from the config file (YAML) or from an
 * environment variable whose name is derived from its path (`llm.baseUrl` -> `RFL_LLM_BASE_URL`);
 * settings marked `secret` may also be read from a file named by `<VAR>_FILE`.
 * The sample config (config/rfl-onboard.sample.yaml) is generated from this schema.
 */
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { ADMIN_ID } from './admins.ts';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A configured kernel series: where its source comes from and which toolchain builds it. */
const kernelSeriesTree = z.strictObject({
  series: z
    .string()
    .regex(/^\d+\.\d+$/)
    .meta({ description: 'The series `--kernel` names ("6.12"); the source must be of this series.' }),
  path: z.string().default('').meta({
    description: 'A kernel source tree or checkout (the folder holding its Makefile), used as it is.',
  }),
  tarball: z.string().default('').meta({
    description:
      'A linux-source tarball (e.g. /usr/src/linux-source-6.1.tar.xz), unpacked once under cacheDir.',
  }),
  debianSource: z.string().default('').meta({
    description:
      "A version of Debian's linux-source-<series> package: downloaded (apt-get download, not installed) and unpacked under cacheDir.",
  }),
  toolchain: z.string().min(1).meta({ description: 'The name of its entry in kernel.toolchains.' }),
});

/** Rust tools for one or more series: installed ones by path, or fetched into cacheDir by version. */
const kernelToolchain = z.strictObject({
  rustc: z.string().default('').meta({ description: 'An installed rustc (absolute path).' }),
  debianRust: z.string().default('').meta({
    description:
      "A version of Debian's rustc-web (with its std, rust-src and cargo-web): downloaded and unpacked under cacheDir, never installed.",
  }),
  bindgen: z.string().default('').meta({ description: 'An installed bindgen (absolute path).' }),
  bindgenCrate: z.string().default('').meta({
    description: 'A bindgen-cli version from crates.io, `cargo install`ed under cacheDir.',
  }),
  clang: z.string().default('/usr/bin/clang').meta({ description: 'clang for bindgen and LLVM=1 builds.' }),
  minRustc: z.string().default('').meta({
    description: "Lowest rustc the series accept; empty: each tree's scripts/min-tool-version.sh.",
  }),
  minBindgen: z.string().default('').meta({
    description: "Lowest bindgen the series accept; empty: each tree's scripts/min-tool-version.sh.",
  }),
});

const kernelTree = z.strictObject({
  path: z
    .string()
    .min(1)
    .meta({ description: 'Root of a kernel source tree (the folder holding its Makefile).' }),
});

const markdownTree = z.strictObject({
  path: z
    .string()
    .min(1)
    .meta({ description: 'Root of a Markdown tree, e.g. a checkout of the rust-for-linux.com site.' }),
  id: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Name shown in sources; defaults to the folder name.' }),
  baseUrl: z
    .string()
    .url()
    .optional()
    .meta({ description: 'Where the rendered pages live; links are baseUrl + page slug + #anchor.' }),
});

/** Parsed by cron-parser, as BullMQ's job scheduler will parse it: a schedule that would fail there fails at startup. */
function isCronExpression(schedule: string): boolean {
  try {
    CronExpressionParser.parse(schedule);
    return true;
  } catch {
    return false;
  }
}

const timeZones = new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']);
const isTimeZone = (zone: string) => timeZones.has(zone);

/** A Matrix room or Discord channel by id; a Zulip channel by id and the topic the digest goes to. */
const digestTarget = z.discriminatedUnion('platform', [
  z.strictObject({ platform: z.enum(['matrix', 'discord']), room: z.string().min(1) }),
  z.strictObject({
    platform: z.literal('zulip'),
    room: z
      .string()
      .regex(/^\d+$/, 'needs the Zulip channel’s id (the number in its address, #channels/<id>/…)'),
    // Zulip's limit on a topic's length.
    topic: z.string({ error: 'needs the topic it is posted to, as text' }).min(1).max(60),
  }),
]);

const feed = z.strictObject({ url: z.string().url(), name: z.string().min(1) });

/** Every tree names one source and a known toolchain, each toolchain one rustc and one bindgen, the default a tree. */
function checkKernelTrees(
  kernel: {
    default: string;
    trees: z.infer<typeof kernelSeriesTree>[];
    toolchains: Record<string, z.infer<typeof kernelToolchain>>;
  },
  context: z.RefinementCtx,
): void {
  const issue = (path: (string | number)[], message: string) =>
    context.addIssue({ code: 'custom', path, message });
  const seen = new Set<string>();
  kernel.trees.forEach((tree, index) => {
    const sources = [tree.path, tree.tarball, tree.debianSource].filter(Boolean).length;
    if (sources !== 1) issue(['trees', index], 'needs exactly one of path, tarball or debianSource');
    if (!kernel.toolchains[tree.toolchain]) {
      const names = Object.keys(kernel.toolchains).join(', ') || 'none';
      issue(
        ['trees', index, 'toolchain'],
        `no toolchain "${tree.toolchain}" in kernel.toolchains (${names})`,
      );
    }
    if (seen.has(tree.series)) issue(['trees', index, 'series'], `series ${tree.series} is listed twice`);
    seen.add(tree.series);
  });
  for (const [name, toolchain] of Object.entries(kernel.toolchains)) {
    if (!toolchain.rustc === !toolchain.debianRust)
      issue(['toolchains', name], 'needs exactly one of rustc or debianRust');
    if (!toolchain.bindgen === !toolchain.bindgenCrate) {
      issue(['toolchains', name], 'needs exactly one of bindgen or bindgenCrate');
    }
  }
  if (!seen.has(kernel.default)) {
    issue(
      ['default'],
      `the default series ${kernel.default} is not in kernel.trees (${[...seen].join(', ')})`,
    );
  }
}

const settings = z.strictObject({
  logLevel: z.enum(logLevels).default('info').meta({ description: 'Log level (pino).' }),
  logFormat: z
    .enum(['auto', 'json', 'pretty'])
    .default('auto')
    .meta({ description: 'auto: pretty in the terminal chat, JSON otherwise.' }),
  cacheDir: z.string().default('').meta({
    description:
      'Where unpacked kernel trees, built indexes and local Redis data live (outside the clone). Empty: $XDG_CACHE_HOME/rfl-onboard or ~/.cache/rfl-onboard.',
  }),
  redis: z
    .strictObject({
      url: z.string().default('redis://127.0.0.1:6379').meta({
        description:
          'Redis for the job queue and records: redis://[user:password@]host:port, rediss:// for TLS (a private CA via NODE_EXTRA_CA_CERTS).',
        secret: true,
      }),
      startLocal: z.boolean().default(true).meta({
        description:
          "Start Debian's redis-server (data under cacheDir) when the URL is on loopback and nothing answers.",
      }),
    })
    .prefault({}),
  kernel: z
    .strictObject({
      default: z.string().default('6.12').meta({
        description: 'The series `!build` uses without --kernel (one of kernel.trees).',
      }),
      trees: z
        .array(kernelSeriesTree)
        .default([
          {
            series: '6.12',
            path: '',
            tarball: '',
            debianSource: '6.12.118-1~deb12u1',
            toolchain: 'rust-1.96',
          },
          {
            series: '6.1',
            path: '',
            tarball: '/usr/src/linux-source-6.1.tar.xz',
            debianSource: '',
            toolchain: 'debian-system',
          },
        ])
        .meta({
          description:
            'The kernel series builds run against, each with exactly one of path, tarball or debianSource. Listing trees replaces this default list.',
        }),
      toolchains: z
        .record(z.string(), kernelToolchain)
        .default({
          'debian-system': {
            rustc: '/usr/bin/rustc',
            debianRust: '',
            bindgen: '/usr/bin/bindgen',
            bindgenCrate: '',
            clang: '/usr/bin/clang',
            minRustc: '',
            minBindgen: '',
          },
          'rust-1.96': {
            rustc: '',
            debianRust: '1.96.0+dfsg1-1~deb12u2',
            bindgen: '',
            bindgenCrate: '0.69.5',
            clang: '/usr/bin/clang',
            minRustc: '',
            minBindgen: '',
          },
        })
        .meta({
          description:
            'Toolchains by name, each with exactly one of rustc or debianRust and one of bindgen or bindgenCrate. Listing toolchains replaces this default set.',
        }),
      src: z.string().default('').meta({
        description:
          "One kernel tree to serve instead of kernel.trees (KERNEL_SRC), built with the toolchain kernel.trees names for its series, else the default series' toolchain.",
      }),
      extraTrees: z.array(kernelTree).default([]).meta({
        description: 'More kernel trees to index for answers only (builds use kernel.trees).',
      }),
    })
    .superRefine(checkKernelTrees)
    .prefault({}),
  jobs: z
    .strictObject({
      concurrency: z.number().int().min(1).max(16).default(1).meta({
        description: 'Jobs one worker process runs at once (a kernel module build uses about one core).',
      }),
      prepareTreesAtStart: z.boolean().default(true).meta({
        description: 'A worker prepares missing kernel trees in the background when it starts.',
      }),
      buildTimeoutSeconds: z.number().int().min(5).max(3600).default(180).meta({
        description: 'Wall-clock limit of one module build in the sandbox.',
      }),
      bootTimeoutSeconds: z.number().int().min(5).max(600).default(60).meta({
        description: 'Wall-clock limit of one QEMU boot; a guest that hangs longer is reported as a hang.',
      }),
      memoryLimitMb: z.number().int().min(256).max(65536).default(2048).meta({
        description:
          'Memory of one sandboxed run, all its processes together (and the address-space limit of each).',
      }),
      maxProcesses: z.number().int().min(16).max(4096).default(256).meta({
        description: 'Processes the sandbox may run at once.',
      }),
      scratchLimitMb: z.number().int().min(16).max(8192).default(256).meta({
        description: 'Size of the sandbox scratch directory (where the module is built).',
      }),
      maxOutputKb: z.number().int().min(16).max(65536).default(1024).meta({
        description: 'Compiler or console output kept per job; more is cut and said so.',
      }),
      maxSourceKb: z.number().int().min(1).max(4096).default(256).meta({
        description: 'Largest module source accepted from chat.',
      }),
      perUserConcurrent: z.number().int().min(1).max(100).default(1).meta({
        description: 'Jobs one user may have queued or running at once.',
      }),
      perRoomConcurrent: z.number().int().min(1).max(1000).default(4).meta({
        description: 'Jobs one room or channel may have queued or running at once.',
      }),
      maxWaiting: z.number().int().min(1).max(10000).default(20).meta({
        description:
          'Jobs waiting for a worker, all rooms together; more are refused with a "busy, try again in a few minutes". With one worker at about a minute per build, the last of 20 waits about 20 minutes.',
      }),
      dailyQuota: z.number().int().min(1).max(100000).default(50).meta({
        description: 'Jobs one user may start per UTC day.',
      }),
      resultTtlHours: z.number().int().min(1).max(8760).default(168).meta({
        description: 'How long results and full logs are kept (for !log and for reusing identical requests).',
      }),
    })
    .prefault({}),
  knowledge: z
    .strictObject({
      markdownTrees: z
        .array(markdownTree)
        .default([])
        .meta({ description: 'Markdown trees to index besides the kernel docs.' }),
      faqDir: z
        .string()
        .default('knowledge/faq')
        .meta({ description: 'The curated FAQ: one Markdown file per entry.' }),
      wholeDocumentation: z.boolean().default(false).meta({
        description: 'Index all of Documentation/ instead of the Rust, process, kbuild and dev-tools parts.',
      }),
      minConfidence: z.number().min(0).max(1).default(0.1).meta({
        description:
          "Below this retrieval confidence (the share of the question's distinctive words the best passages contain) the bot says it does not know.",
      }),
      maxSources: z
        .number()
        .int()
        .min(1)
        .max(10)
        .default(3)
        .meta({ description: 'Links on the "Sources:" line.' }),
    })
    .prefault({}),
  llm: z
    .strictObject({
      baseUrl: z.string().default('').meta({
        description:
          'An OpenAI-compatible endpoint that phrases answers from retrieved passages. Empty: extractive answers.',
      }),
      model: z.string().default('').meta({ description: 'Model name sent to the endpoint.' }),
      apiKey: z.string().default('').meta({ description: 'API key for the endpoint.', secret: true }),
      timeoutMs: z
        .number()
        .int()
        .positive()
        .default(20000)
        .meta({ description: 'Per request; then the extractive answer.' }),
      maxRetries: z
        .number()
        .int()
        .min(0)
        .max(5)
        .default(1)
        .meta({ description: 'Retries on transient errors.' }),
    })
    .prefault({}),
  chat: z
    .strictObject({
      commandPrefix: z
        .string()
        .min(1)
        .max(3)
        .default('!')
        .meta({ description: 'Prefix of chat commands (!help).' }),
      botName: z.string().min(1).default('rfl-onboard').meta({ description: 'How the bot calls itself.' }),
      userMessagesPerMinute: z.number().int().min(1).max(600).default(6).meta({
        description: 'Messages one user may send the bot per minute (all rooms); more get one friendly note.',
      }),
      editWindowSeconds: z.number().int().min(0).max(3600).default(300).meta({
        description:
          'Editing a command or question this soon after sending it re-runs it and edits the reply.',
      }),
      catchUpMinutes: z.number().int().min(0).max(1440).default(10).meta({
        description:
          'At start, Matrix and Zulip messages this recent that the bot had not answered (sent while it restarted) are answered.',
      }),
      admins: z
        .array(
          z
            .string()
            .regex(
              ADMIN_ID,
              'needs a Matrix user id (@name:example.org), a Discord user id (digits), or zulip: and a Zulip user id (zulip:42, the number on the user’s Zulip profile, not an email)',
            ),
        )
        .default([])
        .meta({
          description:
            'Admins: they may read anyone’s !log (except of jobs started in a DM), use !digest preview and approve digests with ✅. Matrix ids (@name:example.org) and Discord user ids (digits) as they are; Zulip user ids as zulip:<id> (zulip:42; ids, not emails). The terminal chat is always admin.',
        }),
    })
    .prefault({}),
  activity: z
    .strictObject({
      retentionDays: z.number().int().min(1).max(3650).default(90).meta({
        description:
          'How long questions, feedback and jobs are kept in Redis for the digest (people only as salted hashes).',
      }),
    })
    .prefault({}),
  ops: z
    .strictObject({
      port: z.number().int().min(0).max(65535).default(9464).meta({
        description:
          '/healthz, /readyz and /metrics (Prometheus) are served here by `serve`; 0 picks a free port.',
      }),
      host: z
        .string()
        .min(1)
        .default('127.0.0.1')
        .meta({ description: 'Address of the ops endpoints; loopback keeps them off the network.' }),
    })
    .prefault({}),
  digest: z
    .strictObject({
      enabled: z.boolean().default(false).meta({ description: 'Post a weekly digest of what happened.' }),
      schedule: z
        .string()
        .default('0 9 * * 1')
        .refine(isCronExpression, {
          error: (issue) =>
            `"${issue.input}" is not a cron expression (minute hour day-of-month month day-of-week, e.g. "0 9 * * 1" for Mondays at 09:00)`,
        })
        .meta({
          description: 'When it is posted (cron, in digest.timeZone); it reports on the last full ISO week.',
        }),
      timeZone: z
        .string()
        .default('UTC')
        .refine(isTimeZone, {
          error: (issue) =>
            `"${issue.input}" is not a time zone this Node knows: use an IANA name such as "Europe/Berlin", or "UTC"`,
        })
        .meta({ description: 'Time zone of the schedule (IANA name).' }),
      targets: z.array(digestTarget).default([]).meta({
        description:
          'Where it is posted: [{ "platform": "matrix", "room": "!id:example.org" }, { "platform": "discord", "room": "<channel id>" }, { "platform": "zulip", "room": "<channel id>", "topic": "weekly digest" }].',
      }),
      adminRooms: z.array(digestTarget).default([]).meta({
        description:
          'Rooms where admins (chat.admins) may use !digest preview (besides their DMs with the bot), and where approval requests go (a Zulip channel: its topic gets them, !digest preview works in any of its topics).',
      }),
      approval: z.boolean().default(true).meta({
        description:
          'Show each digest in the admin rooms first; it goes out when an admin (chat.admins) reacts ✅. With digest targets, it needs digest.adminRooms and chat.admins.',
      }),
      feeds: z.array(feed).default([]).meta({
        description:
          'Atom/RSS feeds whose new items the digest lists: [{ "url": "https://…", "name": "rust-for-linux list" }].',
      }),
      feedTimeoutSeconds: z.number().int().min(1).max(120).default(20).meta({
        description:
          'Per feed fetch; a feed that fails is named in the digest, and its items come next week.',
      }),
    })
    .prefault({}),
  matrix: z
    .strictObject({
      homeserverUrl: z.string().default('').meta({
        description: 'The homeserver the bot logs in to (https://matrix.example.org). Empty: no Matrix.',
      }),
      userId: z.string().default('').meta({ description: "The bot's Matrix id (@rfl-onboard:example.org)." }),
      accessToken: z.string().default('').meta({
        description:
          'Access token of the bot account; empty: log in with the password once and keep the token.',
        secret: true,
      }),
      password: z
        .string()
        .default('')
        .meta({ description: 'Password of the bot account (used when no token is given).', secret: true }),
      allowlist: z.array(z.string().min(1)).default([]).meta({
        description:
          'Invites are accepted from these users (@a:example.org), servers (example.org) or to these rooms (!id:example.org); others are declined.',
      }),
      encryption: z.boolean().default(true).meta({
        description: 'Answer in encrypted rooms and DMs (end-to-end; the same device across restarts).',
      }),
    })
    .superRefine((matrix, context) => {
      if (matrix.homeserverUrl === '') return;
      if (!/^@[^:]+:.+$/.test(matrix.userId))
        context.addIssue({
          code: 'custom',
          path: ['userId'],
          message: 'needs the full id, like @bot:example.org',
        });
      if (matrix.accessToken === '' && matrix.password === '')
        context.addIssue({
          code: 'custom',
          path: ['accessToken'],
          message: 'give an access token or a password',
        });
    })
    .prefault({}),
  discord: z
    .strictObject({
      token: z.string().default('').meta({
        description: 'Bot token from the Discord developer portal. Empty: no Discord.',
        secret: true,
      }),
      applicationId: z
        .string()
        .default('')
        .meta({ description: "The application's id, for registering slash commands." }),
      guildIds: z.array(z.string().min(1)).default([]).meta({
        description:
          'Servers to register slash commands in (at once); empty: globally (Discord may take an hour).',
      }),
      apiBaseUrl: z.string().url().default('https://discord.com/api').meta({
        description:
          "Discord's REST API, without the version: another base to go through an HTTP proxy (shared rate limits across processes). The gateway URL is the one GET /gateway/bot answers.",
      }),
    })
    .superRefine((discord, context) => {
      if (discord.token !== '' && !/^\d+$/.test(discord.applicationId))
        context.addIssue({
          code: 'custom',
          path: ['applicationId'],
          message: 'needs the numeric application id',
        });
    })
    .prefault({}),
  zulip: z
    .strictObject({
      site: z.string().default('').meta({
        description:
          "The organisation's address, e.g. https://rust-for-linux.zulipchat.com. Empty: no Zulip (unless zuliprc names it).",
      }),
      email: z.string().default('').meta({ description: "The bot's email address, from its settings page." }),
      apiKey: z.string().default('').meta({
        description: "The bot's API key, from its settings page.",
        secret: true,
      }),
      zuliprc: z.string().default('').meta({
        description:
          'Instead of site, email and apiKey: the path of the zuliprc file Zulip offers for download on the bot’s settings page.',
      }),
      channels: z.array(z.string().min(1)).default([]).meta({
        description:
          'Channels (by name) whose topics the bot answers in when asked with a command; it always answers direct messages and @-mentions, in any channel it is subscribed to.',
      }),
    })
    .superRefine((zulip, context) => {
      if (zulip.site === '' || zulip.zuliprc !== '') return;
      if (!/^https?:\/\//.test(zulip.site))
        context.addIssue({
          code: 'custom',
          path: ['site'],
          message: 'needs the full address, like https://example.zulipchat.com',
        });
      if (zulip.email === '' || zulip.apiKey === '')
        context.addIssue({
          code: 'custom',
          path: ['apiKey'],
          message: 'give the bot’s email and API key, or a zuliprc',
        });
    })
    .prefault({}),
});

/** An approval nobody can see or give would hold every digest back, in silence. */
function checkDigestApproval({ digest, chat }: z.infer<typeof settings>, context: z.RefinementCtx): void {
  if (!digest.enabled || !digest.approval || digest.targets.length === 0) return;
  const missing = [
    digest.adminRooms.length === 0 && 'digest.adminRooms (where the request is posted)',
    chat.admins.length === 0 && 'chat.admins (who may approve it)',
  ].filter((setting) => setting !== false);
  if (missing.length === 0) return;
  context.addIssue({
    code: 'custom',
    path: ['digest', 'approval'],
    message: `is on, so each digest waits for an admin’s ✅, but ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} empty: no digest would ever be posted. Set ${missing.length === 1 ? 'it' : 'them'}, or set digest.approval to false.`,
  });
}

export const configSchema = settings.superRefine(checkDigestApproval);

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

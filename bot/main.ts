/**
 * Process entry point.
 * - `node bot/main.ts chat [--no-worker]` (what `npm start` runs): the bot as a chat in this terminal,
 *   plus the Matrix, Discord and Zulip connections the config names. The chat opens at once; questions
 *   typed while the index loads are answered when it is ready.
 * - `node bot/main.ts serve [--no-worker]`: only the configured rooms (Matrix, Discord, Zulip), logging
 *   JSON, until SIGTERM or SIGINT.
 * Both use a local Redis when none answers, the knowledge base built from whatever kernel tree they find
 * or provision, and the build queue with a job worker in the same process (--no-worker leaves the jobs
 * to `npm run worker` processes).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { formatProblems, loadConfig } from '../config/load.ts';
import { createLogger, type Logger } from '../config/logger.ts';
import { registerQueueDepth } from '../config/metrics.ts';
import type { Result } from '../config/result.ts';
import type { Config } from '../config/schema.ts';
import { type ActivityLog, activityKey, RedisActivityLog } from '../jobs/activity.ts';
import { ensureRedis } from '../jobs/queue/local-redis.ts';
import { DEFAULT_QUEUE, JobQueue } from '../jobs/queue/queue.ts';
import { type RunningWorker, runWorker } from '../jobs/run-worker.ts';
import { configuredSources } from '../knowledge/kernel-trees.ts';
import { loadKnowledgeBase } from '../knowledge/knowledge-base.ts';
import { createLlmPhraser } from '../knowledge/llm.ts';
import { createKnowledgeService } from '../knowledge/service.ts';
import { startDiscordBot } from './adapters/discord/bot.ts';
import { startMatrixBot } from './adapters/matrix/bot.ts';
import { runTerminalChat } from './adapters/terminal/terminal.ts';
import { startZulipBot, type ZulipBot } from './adapters/zulip/bot.ts';
import { readZuliprc } from './adapters/zulip/credentials.ts';
import { type DocSection, docSections } from './digest/compose.ts';
import { type DigestSenders, DigestService } from './digest/service.ts';
import { type ChatLedger, MemoryChatLedger, RedisChatLedger } from './dispatch/chat-ledger.ts';
import { createDispatcher, type Dispatcher, type DispatcherOptions } from './dispatch/dispatcher.ts';
import { createRouter, type Router } from './dispatch/router.ts';
import { type ReadinessCheck, startOpsServer } from './ops-server.ts';

/** At the end, a running job of the embedded worker gets this long before it is handed back. */
const WORKER_GRACE_MS = 5000;

/** What runs besides the adapters, stopped in reverse order. */
interface Services {
  redis: Redis | null;
  jobQueue: JobQueue | null;
  worker: RunningWorker | null;
  activity: ActivityLog | null;
}

async function startServices(config: Config, embeddedWorker: boolean, log: Logger): Promise<Services> {
  const services: Services = { redis: null, jobQueue: null, worker: null, activity: null };
  const redis = await ensureRedis({ ...config.redis, cacheDir: config.cacheDir, log });
  if (!redis.ok) {
    log.warn(redis.failure.logText);
    return services;
  }
  services.redis = new Redis(config.redis.url, { maxRetriesPerRequest: 3 });
  services.activity = new RedisActivityLog(services.redis, {
    key: activityKey(DEFAULT_QUEUE),
    retentionDays: config.activity.retentionDays,
  });
  try {
    const location = { redisUrl: config.redis.url, ...DEFAULT_QUEUE };
    services.jobQueue = await JobQueue.open({ ...location, jobs: config.jobs, log });
    if (embeddedWorker) services.worker = await runWorker({ config, location, log });
  } catch (error) {
    // Questions still work without builds.
    log.error({ err: error }, 'the job queue failed to start; builds are unavailable');
  }
  return services;
}

async function stopServices(services: Services): Promise<void> {
  await services.worker?.stop(WORKER_GRACE_MS);
  await services.jobQueue?.close();
  await services.redis?.quit().catch(() => {});
}

async function createBotRouter(
  config: Config,
  services: Services,
  log: Logger,
  onStatus?: (text: string | null) => void,
): Promise<{ router: Router; digest: DigestService | null }> {
  onStatus?.('looking for the kernel source trees…');
  const sources = await configuredSources(config, log);
  onStatus?.('loading the knowledge base…');
  const kb = await loadKnowledgeBase(sources, {
    cacheDir: config.cacheDir,
    name: 'bot',
    log,
    ...(onStatus ? { onStatus } : {}),
  });
  const knowledge = createKnowledgeService(kb, {
    knowledge: config.knowledge,
    llm: createLlmPhraser(config.llm, log),
    log,
  });
  const jobs = services.jobQueue ? { queue: services.jobQueue, limits: config.jobs } : null;
  const digest = digestService(config, services, () => docSections(kb.passages), log);
  const previews = digest && {
    preview: () => digest.preview(),
    isAdminRoom: (platform: string, roomId: string) =>
      config.digest.adminRooms.some((room) => room.platform === platform && room.room === roomId),
  };
  const router = createRouter({
    knowledge,
    chat: config.chat,
    log,
    jobs,
    activity: services.activity,
    digest: previews,
  });
  return { router, digest };
}

function digestService(
  config: Config,
  services: Services,
  docs: () => DocSection[],
  log: Logger,
): DigestService | null {
  if (!config.digest.enabled) return null;
  if (!services.redis || !services.activity) {
    log.warn('the weekly digest needs Redis; it is off until Redis answers');
    return null;
  }
  return new DigestService({
    redis: services.redis,
    namespace: `${DEFAULT_QUEUE.prefix}:digest`,
    redisUrl: config.redis.url,
    activity: services.activity,
    docs,
    feeds: config.digest.feeds,
    feedTimeoutMs: config.digest.feedTimeoutSeconds * 1000,
    targets: config.digest.targets,
    approval: {
      required: config.digest.approval,
      adminRooms: config.digest.adminRooms,
      admins: config.chat.admins,
    },
    log: log.child({ component: 'digest' }),
  });
}

/** The dispatcher one platform's adapter enters through. */
function dispatcherFor(
  platform: DispatcherOptions['platform'],
  parts: Pick<DispatcherOptions, 'router' | 'ledger' | 'userMessagesPerMinute' | 'onReaction'>,
  config: Config,
  services: Services,
  log: Logger,
): Dispatcher {
  return createDispatcher({
    ...parts,
    platform,
    editWindowMs: config.chat.editWindowSeconds * 1000,
    log: log.child({ platform }),
    jobs: services.jobQueue,
    activity: services.activity,
  });
}

/**
 * The terminal's: an in-memory ledger (the operator's conversation lasts as long as the process, and its
 * message ids start again each run), and no rate limit: the terminal's one user is the operator, who
 * owns the machine, and a piped script of questions must get every answer, not a note and silence.
 */
function terminalDispatcher(router: Router, config: Config, services: Services, log: Logger): Dispatcher {
  const parts = {
    router,
    ledger: new MemoryChatLedger(),
    userMessagesPerMinute: Number.POSITIVE_INFINITY,
  };
  return dispatcherFor('terminal', parts, config, services, log);
}

const zulipConfigured = (config: Config) => config.zulip.site !== '' || config.zulip.zuliprc !== '';

/** The bot on Zulip, with the zuliprc's credentials when one is named, else the settings'. */
async function startZulip(config: Config, dispatcher: Dispatcher, log: Logger): Promise<Result<ZulipBot>> {
  const { zuliprc, site, email, apiKey, channels } = config.zulip;
  const credentials = zuliprc
    ? await readZuliprc(zuliprc)
    : { ok: true as const, value: { site, email, apiKey } };
  if (!credentials.ok) return credentials;
  return startZulipBot({
    credentials: credentials.value,
    channels,
    dispatcher,
    log,
    catchUpMs: config.chat.catchUpMinutes * 60_000,
  });
}

/** The Matrix, Discord and Zulip connections the config names: how to stop each, and their senders. */
async function connectRooms(
  config: Config,
  router: Router,
  services: Services,
  digest: DigestService | null,
  log: Logger,
): Promise<{
  stops: (() => Promise<void>)[];
  senders: DigestSenders;
  checks: Record<string, ReadinessCheck>;
}> {
  const senders: DigestSenders = {};
  const checks: Record<string, ReadinessCheck> = {};
  const redis = services.redis;
  if (redis) checks.redis = async () => (await redis.ping()) === 'PONG';
  let ledger: ChatLedger;
  if (services.redis) ledger = new RedisChatLedger(services.redis);
  else {
    ledger = new MemoryChatLedger();
    if (config.matrix.homeserverUrl || config.discord.token || zulipConfigured(config))
      log.warn('no Redis: a restart forgets which messages were answered, and may answer some again');
  }
  const roomDispatcher = (platform: 'matrix' | 'discord' | 'zulip') =>
    dispatcherFor(
      platform,
      {
        router,
        ledger,
        userMessagesPerMinute: config.chat.userMessagesPerMinute,
        onReaction: async (messageId, userId, emoji) => {
          if (digest && emoji.startsWith('✅')) await digest.approved(platform, messageId, userId, senders);
        },
      },
      config,
      services,
      log,
    );
  const stops: (() => Promise<void>)[] = [];
  const { matrix, discord } = config;
  if (matrix.homeserverUrl) {
    const started = await startMatrixBot({
      homeserverUrl: matrix.homeserverUrl,
      userId: matrix.userId,
      ...(matrix.accessToken ? { accessToken: matrix.accessToken } : {}),
      ...(matrix.password ? { password: matrix.password } : {}),
      stateDir: join(config.cacheDir, 'matrix'),
      allowlist: matrix.allowlist,
      dispatcher: roomDispatcher('matrix'),
      log,
      ...(matrix.encryption ? { encryption: {} } : {}),
      catchUpMs: config.chat.catchUpMinutes * 60_000,
    });
    if (started.ok) {
      stops.push(() => started.value.stop());
      senders.matrix = started.value.surface;
      checks.matrix = async () => started.value.isConnected();
    } else log.error({ err: started.failure.detail }, `matrix: ${started.failure.logText}`);
  }
  if (discord.token) {
    try {
      const bot = await startDiscordBot({
        token: discord.token,
        applicationId: discord.applicationId,
        guildIds: discord.guildIds,
        apiBaseUrl: discord.apiBaseUrl,
        dispatcher: roomDispatcher('discord'),
        commandPrefix: config.chat.commandPrefix,
        log,
      });
      stops.push(() => bot.stop());
      senders.discord = bot.chat;
      checks.discord = async () => bot.isConnected();
    } catch (error) {
      log.error({ err: error }, 'discord: could not connect (check the token and the intents)');
    }
  }
  if (zulipConfigured(config)) {
    const started = await startZulip(config, roomDispatcher('zulip'), log);
    if (started.ok) {
      stops.push(() => started.value.stop());
      senders.zulip = started.value.chat;
      checks.zulip = async () => started.value.isConnected();
    } else log.error({ err: started.failure.detail }, `zulip: ${started.failure.logText}`);
  }
  if (digest) {
    const scheduled = await digest.schedule(config.digest.schedule, config.digest.timeZone, () => senders);
    stops.push(() => scheduled.close());
  }
  return { stops, senders, checks };
}

async function chat(config: Config, embeddedWorker: boolean): Promise<void> {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  // A person at the terminal reads replies, not log lines: the log goes to a file there.
  const logFile = join(config.cacheDir, 'chat.log');
  const log = createLogger(config, interactive ? { interactive, file: logFile } : {});
  if (interactive)
    process.stdout.write(
      `rfl-onboard — ask about Rust in the Linux kernel; !help for commands. Log: ${logFile}\n`,
    );
  const { promise: dispatcher, resolve, reject } = Promise.withResolvers<Dispatcher>();
  const terminal = runTerminalChat({
    dispatcher,
    input: process.stdin,
    output: process.stdout,
    isTTY: interactive,
    log,
  });

  terminal.status('starting Redis…');
  const services = await startServices(config, embeddedWorker, log);
  let stops: (() => Promise<void>)[] = [];
  try {
    const ready = await createBotRouter(config, services, log, (text) => terminal.status(text));
    resolve(terminalDispatcher(ready.router, config, services, log));
    terminal.status(null);
    ({ stops } = await connectRooms(config, ready.router, services, ready.digest, log));
  } catch (error) {
    log.error({ err: error }, 'the knowledge base failed to load');
    reject(error);
  } finally {
    terminal.status(null);
  }
  await terminal.finished;
  for (const stop of stops) await stop();
  await stopServices(services);
  log.flush();
}

async function serve(config: Config, embeddedWorker: boolean): Promise<number> {
  const log = createLogger(config);
  if (!config.matrix.homeserverUrl && !config.discord.token && !zulipConfigured(config)) {
    log.error(
      'nothing to serve: configure matrix.homeserverUrl, discord.token or zulip.site (see README, "Running it")',
    );
    return 2;
  }
  const services = await startServices(config, embeddedWorker, log);
  const { router, digest } = await createBotRouter(config, services, log);
  const { stops, checks } = await connectRooms(config, router, services, digest, log);
  if (stops.length === 0) {
    await stopServices(services);
    return 1;
  }
  const { jobQueue } = services;
  if (jobQueue) {
    const unregister = registerQueueDepth(() => jobQueue.depth());
    stops.push(async () => unregister());
  }
  const ops = await startOpsServer({ port: config.ops.port, host: config.ops.host, checks, log });
  log.info('serving; SIGTERM or SIGINT stops');
  const signal = await new Promise<string>((resolveSignal) => {
    process.once('SIGTERM', () => resolveSignal('SIGTERM'));
    process.once('SIGINT', () => resolveSignal('SIGINT'));
  });
  // Stop intake first, then let the worker finish or hand back its job, then close the queue and Redis.
  log.info({ signal }, 'stopping');
  for (const stop of stops) await stop();
  await ops.close();
  await stopServices(services);
  log.flush();
  return 0;
}

const loaded = loadConfig();
if (!loaded.ok) {
  console.error(formatProblems(loaded.problems));
  process.exit(1);
}
for (const warning of loaded.warnings) console.error(`warning: ${warning}`);
mkdirSync(loaded.config.cacheDir, { recursive: true });

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { 'no-worker': { type: 'boolean', default: false } },
});
const command = positionals[0] ?? 'chat';
const embeddedWorker = !values['no-worker'];
if (command === 'chat') {
  await chat(loaded.config, embeddedWorker);
  // A kernel tree still being prepared in the background is abandoned (it resumes next start).
  process.exit(0);
} else if (command === 'serve') {
  process.exit(await serve(loaded.config, embeddedWorker));
} else {
  console.error(`usage: node bot/main.ts chat|serve [--no-worker]   (unknown command "${command}")`);
  process.exit(2);
}

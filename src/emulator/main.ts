import { parseArgs } from 'node:util';
import { DEFAULT_TOKEN_SECONDS, type EmulatorOAuthClient } from './oauth';
import { DEFAULT_MUTATION_SPEC, EMULATOR_DEFAULTS as DEFAULTS, type EmulatorOptions } from './options';
import { startEmulator } from './server';

/** The library's default port is 0 (a free one, for tests); a person starting the emulator wants a known one. */
const CLI_PORT = 8080;

const USAGE = `Usage: zendesk-export emulator [options]

  --port N                    listen port (EMULATOR_PORT, default ${CLI_PORT}; 0 = any free port)
  --host HOST                 listen address (EMULATOR_HOST, default ${DEFAULTS.host})
  --seed N                    data seed (EMULATOR_SEED, default ${DEFAULTS.seed})
  --tickets N                 seeded tickets (EMULATOR_TICKETS, default ${DEFAULTS.ticketCount})
  --range-seconds N           spread of seeded timestamps (EMULATOR_RANGE_SECONDS, default ${DEFAULTS.rangeSeconds / 86400} days)
  --window-seconds N          one export call per window, 0 = unlimited (EMULATOR_WINDOW_SECONDS, default ${DEFAULTS.windowSeconds})
  --sample-window-seconds N   the same for the sample endpoint (EMULATOR_SAMPLE_WINDOW_SECONDS, default ${DEFAULTS.sampleWindowSeconds})
  --min-start-age-seconds N   younger start_time is "too recent" (EMULATOR_MIN_START_AGE_SECONDS, default ${DEFAULTS.minStartAgeSeconds})
  --page-size N               rows per page (EMULATOR_PAGE_SIZE, default ${DEFAULTS.pageSize})
  --requests-per-minute N     incremental endpoints (time-based and cursor together): calls per sliding minute,
                              0 = unlimited (EMULATOR_REQUESTS_PER_MINUTE, default ${DEFAULTS.incrementalRequestsPerMinute})
  --users-cursor-requests-per-minute N
                              the users cursor export's own bucket: calls per sliding minute, 0 = unlimited
                              (EMULATOR_USERS_CURSOR_REQUESTS_PER_MINUTE, default ${DEFAULTS.usersCursorRequestsPerMinute})
  --no-seed-events            the ticket events (and metric events) start with the live changes instead of a seeded
                              history of every ticket (EMULATOR_SEED_EVENTS=0)
  --incremental-min-start-age-seconds N
                              the same as --min-start-age-seconds for the incremental endpoints
                              (EMULATOR_INCREMENTAL_MIN_START_AGE_SECONDS, default ${DEFAULTS.incrementalMinStartAgeSeconds})
  --max-page-bytes N          incremental pages larger than this get 504, 0 = unlimited
                              (EMULATOR_MAX_PAGE_BYTES, default ${DEFAULTS.maxPageBytes})
  --description-bytes MIN,MAX size range of a full ticket's description (EMULATOR_DESCRIPTION_BYTES, default ${DEFAULTS.descriptionBytes.join(',')})
  --burst SIZE[@TIMESTAMP]    extra tickets sharing one generated_timestamp; repeatable
                              (EMULATOR_BURSTS, comma-separated)
  --mutations-per-tick N      live mutations per tick, 0 = none (EMULATOR_MUTATIONS_PER_TICK)
  --mutation-interval-ms N    tick interval (EMULATOR_MUTATION_INTERVAL_MS, default ${DEFAULT_MUTATION_SPEC.intervalMs})
  --email, --api-token, --password
                              the fake credentials to accept (EMULATOR_EMAIL, EMULATOR_API_TOKEN, EMULATOR_PASSWORD)
  --oauth-client ID:SECRET    OAuth mode: POST /oauth/tokens grants this confidential client tokens (client
                              credentials), and the exports accept only Bearer tokens; repeatable
                              (EMULATOR_OAUTH_CLIENTS, comma-separated)
  --oauth-token-ttl S         tokens live min(requested expires_in, S) seconds; default: the requested expires_in,
                              or ${DEFAULT_TOKEN_SECONDS} (EMULATOR_OAUTH_TOKEN_TTL)
  --json                      print the ready line as one JSON object (url, tickets, the environment to use)
`;

interface Source {
  flag: string;
  env: string;
  value: string | undefined;
  fromEnv: boolean;
}

function source(values: Record<string, unknown>, flag: string, env: string): Source {
  const fromFlag = values[flag];
  if (typeof fromFlag === 'string') return { flag, env, value: fromFlag, fromEnv: false };
  const fromEnv = process.env[env];
  return { flag, env, value: fromEnv === '' ? undefined : fromEnv, fromEnv: fromEnv !== undefined && fromEnv !== '' };
}

function describe(src: Source): string {
  return src.fromEnv ? `--${src.flag} (from ${src.env})` : `--${src.flag}`;
}

function parseCli(argv: string[]): { options: EmulatorOptions; errors: string[]; json: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      seed: { type: 'string' },
      tickets: { type: 'string' },
      'range-seconds': { type: 'string' },
      'window-seconds': { type: 'string' },
      'sample-window-seconds': { type: 'string' },
      'min-start-age-seconds': { type: 'string' },
      'page-size': { type: 'string' },
      'requests-per-minute': { type: 'string' },
      'users-cursor-requests-per-minute': { type: 'string' },
      'no-seed-events': { type: 'boolean' },
      'incremental-min-start-age-seconds': { type: 'string' },
      'max-page-bytes': { type: 'string' },
      'description-bytes': { type: 'string' },
      burst: { type: 'string', multiple: true },
      'mutations-per-tick': { type: 'string' },
      'mutation-interval-ms': { type: 'string' },
      email: { type: 'string' },
      'api-token': { type: 'string' },
      password: { type: 'string' },
      'oauth-client': { type: 'string', multiple: true },
      'oauth-token-ttl': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }

  const errors: string[] = [];
  /** The flag's (or else the variable's) integer; undefined when neither is set, or it is not valid. */
  const int = (flag: string, env: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const src = source(values, flag, env);
    if (src.value === undefined) return undefined;
    const n = /^\d+$/.test(src.value.trim()) ? Number(src.value.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      errors.push(`${describe(src)}: expected an integer ${range}, got '${src.value}'`);
      return undefined;
    }
    return n;
  };
  const text = (flag: string, env: string): string | undefined => {
    const src = source(values, flag, env);
    if (src.value !== undefined && src.value.trim() === '') errors.push(`${describe(src)}: must not be empty`);
    return src.value;
  };

  // What is left undefined takes the emulator's default.
  const options: EmulatorOptions = {
    port: int('port', 'EMULATOR_PORT', 0, 65535) ?? CLI_PORT,
    host: text('host', 'EMULATOR_HOST'),
    seed: int('seed', 'EMULATOR_SEED', 0, 0xffffffff),
    ticketCount: int('tickets', 'EMULATOR_TICKETS', 0, 20_000_000),
    rangeSeconds: int('range-seconds', 'EMULATOR_RANGE_SECONDS', 0),
    windowSeconds: int('window-seconds', 'EMULATOR_WINDOW_SECONDS', 0),
    sampleWindowSeconds: int('sample-window-seconds', 'EMULATOR_SAMPLE_WINDOW_SECONDS', 0),
    minStartAgeSeconds: int('min-start-age-seconds', 'EMULATOR_MIN_START_AGE_SECONDS', 0),
    pageSize: int('page-size', 'EMULATOR_PAGE_SIZE', 1),
    incrementalRequestsPerMinute: int('requests-per-minute', 'EMULATOR_REQUESTS_PER_MINUTE', 0),
    usersCursorRequestsPerMinute: int(
      'users-cursor-requests-per-minute',
      'EMULATOR_USERS_CURSOR_REQUESTS_PER_MINUTE',
      0,
    ),
    incrementalMinStartAgeSeconds: int(
      'incremental-min-start-age-seconds',
      'EMULATOR_INCREMENTAL_MIN_START_AGE_SECONDS',
      0,
    ),
    maxPageBytes: int('max-page-bytes', 'EMULATOR_MAX_PAGE_BYTES', 0),
  };

  if (values['no-seed-events'] || process.env.EMULATOR_SEED_EVENTS === '0') options.seedEvents = false;

  const descriptionBytes = source(values, 'description-bytes', 'EMULATOR_DESCRIPTION_BYTES');
  if (descriptionBytes.value !== undefined) {
    const match = /^\s*(\d{1,7})\s*,\s*(\d{1,7})\s*$/.exec(descriptionBytes.value);
    if (!match || Number(match[1]) > Number(match[2])) {
      errors.push(`${describe(descriptionBytes)}: expected MIN,MAX with MIN <= MAX, got '${descriptionBytes.value}'`);
    } else {
      options.descriptionBytes = [Number(match[1]), Number(match[2])];
    }
  }

  const burstValues = values.burst ?? process.env.EMULATOR_BURSTS?.split(',').filter((b) => b.trim() !== '') ?? [];
  const burstLabel = values.burst ? '--burst' : '--burst (from EMULATOR_BURSTS)';
  options.bursts = [];
  for (const raw of burstValues) {
    const match = /^\s*(\d+)(?:@(\d+))?\s*$/.exec(raw);
    const size = match ? Number(match[1]) : NaN;
    if (!match || size < 1 || size > 10_000_000) {
      errors.push(`${burstLabel}: expected SIZE or SIZE@TIMESTAMP with SIZE from 1 to 10000000, got '${raw}'`);
      continue;
    }
    options.bursts.push(match[2] === undefined ? { size } : { size, timestamp: Number(match[2]) });
  }

  const perTick = int('mutations-per-tick', 'EMULATOR_MUTATIONS_PER_TICK', 0, 1_000_000) ?? 0;
  const intervalMs =
    int('mutation-interval-ms', 'EMULATOR_MUTATION_INTERVAL_MS', 1, 24 * 3600 * 1000) ??
    DEFAULT_MUTATION_SPEC.intervalMs;
  if (perTick > 0) options.mutations = { intervalMs, perTick };

  const email = text('email', 'EMULATOR_EMAIL');
  const apiToken = text('api-token', 'EMULATOR_API_TOKEN');
  const password = text('password', 'EMULATOR_PASSWORD');
  options.credentials = {};
  if (email !== undefined) options.credentials.email = email;
  if (apiToken !== undefined) options.credentials.apiToken = apiToken;
  if (password !== undefined) options.credentials.password = password;

  const clientValues =
    values['oauth-client'] ?? process.env.EMULATOR_OAUTH_CLIENTS?.split(',').filter((c) => c.trim() !== '') ?? [];
  const clientLabel = values['oauth-client'] ? '--oauth-client' : '--oauth-client (from EMULATOR_OAUTH_CLIENTS)';
  const clients: EmulatorOAuthClient[] = [];
  for (const raw of clientValues) {
    const colon = raw.indexOf(':');
    const clientId = raw.slice(0, colon).trim();
    const clientSecret = raw.slice(colon + 1).trim();
    if (colon < 0 || clientId === '' || clientSecret === '') {
      // the value holds a secret: not repeated in the message
      errors.push(`${clientLabel}: expected CLIENT_ID:SECRET with neither part empty`);
      continue;
    }
    if (clients.some((client) => client.clientId === clientId)) {
      errors.push(`${clientLabel}: client ${clientId} is given twice`);
      continue;
    }
    clients.push({ clientId, clientSecret });
  }
  if (clients.length > 0) options.oauthClients = clients;
  const ttl = source(values, 'oauth-token-ttl', 'EMULATOR_OAUTH_TOKEN_TTL');
  if (ttl.value !== undefined) {
    options.oauthTokenTtlSeconds = int('oauth-token-ttl', 'EMULATOR_OAUTH_TOKEN_TTL', 1);
    if (clientValues.length === 0) errors.push(`${describe(ttl)}: needs --oauth-client`);
  }

  return { options, errors, json: values.json === true };
}

/** `zendesk-export emulator [options]`: the emulator in the foreground until SIGINT or SIGTERM. */
export async function main(args: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(args);
  } catch (err) {
    // parseArgs rejects unknown flags and missing values
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (parsed.errors.length > 0) {
    process.stderr.write(`${parsed.errors.join('\n')}\n`);
    process.exitCode = 2;
    return;
  }

  const emulator = await startEmulator(parsed.options);
  const { credentials, oauthClients, ticketCount, seed, windowSeconds, incrementalRequestsPerMinute } =
    emulator.options;
  const total = ticketCount + emulator.options.bursts.reduce((sum, b) => sum + b.size, 0);
  const env: Record<string, string> = { ZENDESK_BASE_URL: emulator.url };
  if (oauthClients.length > 0) {
    env.ZENDESK_OAUTH_CLIENT_ID = oauthClients[0].clientId;
    env.ZENDESK_OAUTH_CLIENT_SECRET = oauthClients[0].clientSecret;
  } else {
    env.ZENDESK_EMAIL = credentials.email;
    env.ZENDESK_API_TOKEN = credentials.apiToken;
  }
  if (parsed.json) {
    console.log(
      JSON.stringify({ url: emulator.url, tickets: total, seed, windowSeconds, incrementalRequestsPerMinute, env }),
    );
  } else {
    const incrementalLimit = incrementalRequestsPerMinute === 0 ? 'unlimited' : `${incrementalRequestsPerMinute}/min`;
    const use = Object.entries(env)
      .map(([name, value]) => `${name}=${value}`)
      .join(' ');
    console.log(
      `Zendesk emulator: ${total} tickets (seed ${seed}, window ${windowSeconds}s, incremental ${incrementalLimit}) ` +
        `at ${emulator.url}; use ${use}`,
    );
  }

  const shutdown = (signal: NodeJS.Signals) => {
    process.stderr.write(`${signal}: closing the emulator\n`);
    emulator.close().catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}

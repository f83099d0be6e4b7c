import { z } from 'zod';
import type { TicketStoreOptions } from './data';
import type { StreamModelOptions } from './stream-model';

/** Bad input from a caller of the emulator (the control API answers it with 400). */
export class EmulatorInputError extends Error {}

/** Parses `input`, or throws an EmulatorInputError that names every bad value by its path. */
export function parseInput<S extends z.ZodTypeAny>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) =>
    issue.path.length === 0 ? issue.message : `${pathName(issue.path)}: ${issue.message}`,
  );
  throw new EmulatorInputError(problems.join('; '));
}

/** `bursts[0].size`, as the option would be written in code */
function pathName(path: ReadonlyArray<string | number>): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

export const nonNegativeInt = z.number().int().nonnegative().safe();
export const positiveInt = nonNegativeInt.positive();
const nonNegativeSeconds = z.number().nonnegative().finite();

export const DEFAULT_CREDENTIALS = Object.freeze({
  email: 'admin@example.com',
  apiToken: 'emulator-token',
  password: 'emulator-password',
});

const credentialsSchema = z.object({
  email: z.string().default(DEFAULT_CREDENTIALS.email),
  apiToken: z.string().default(DEFAULT_CREDENTIALS.apiToken),
  password: z.string().default(DEFAULT_CREDENTIALS.password),
});
export type EmulatorCredentials = z.output<typeof credentialsSchema>;

export const mutationSpecSchema = z.object({ intervalMs: positiveInt, perTick: positiveInt });
export type MutationSpec = z.output<typeof mutationSpecSchema>;
/** What `startMutations()` without a spec runs until another spec is given. */
export const DEFAULT_MUTATION_SPEC: Readonly<MutationSpec> = Object.freeze({ intervalMs: 1000, perTick: 1 });

/** Tickets sharing one generated_timestamp (see defaultBurstTimestamp). */
export const burstSchema = z.object({ size: positiveInt, timestamp: nonNegativeInt.optional() });

const oauthClientSchema = z.object({ clientId: z.string().min(1), clientSecret: z.string().min(1) });

const oauthClientsSchema = z.array(oauthClientSchema).superRefine((clients, ctx) => {
  const seen = new Set<string>();
  clients.forEach(({ clientId }, i) => {
    if (seen.has(clientId)) ctx.addIssue({ code: 'custom', path: [i], message: `client ${clientId} appears twice` });
    seen.add(clientId);
  });
});

const descriptionBytesSchema = z
  .tuple([nonNegativeInt, nonNegativeInt])
  .refine(([min, max]) => min <= max, { message: 'min must not be larger than max' });

/** The settings a running emulator can change (`configure()`, POST /__emulator/config). */
const tunables = {
  /** the specified export endpoints: a start_time younger than this is "too recent" */
  minStartAgeSeconds: nonNegativeInt,
  /** one accepted export call per window; 0 = unlimited */
  windowSeconds: nonNegativeSeconds,
  /** the sample endpoint's own window */
  sampleWindowSeconds: nonNegativeSeconds,
  /** incremental endpoints (time-based and cursor together): accepted calls per sliding minute; 0 = unlimited */
  incrementalRequestsPerMinute: nonNegativeInt,
  /** the users cursor export's own bucket: accepted calls per sliding minute; 0 = unlimited */
  usersCursorRequestsPerMinute: nonNegativeInt,
  /** the account-wide bucket (the reference lists): accepted calls per sliding minute; 0 = unlimited */
  accountRequestsPerMinute: nonNegativeInt,
  /** incremental endpoints: a start_time younger than this is "too recent" */
  incrementalMinStartAgeSeconds: nonNegativeInt,
  /** incremental endpoints: a page whose JSON body is larger gets 504; 0 = unlimited */
  maxPageBytes: nonNegativeInt,
};

export const configurePatchSchema = z.object(tunables).partial();
export type ConfigurePatch = z.input<typeof configurePatchSchema>;

/** Every option of `startEmulator()` with its default: the one place the defaults are written. */
export const emulatorOptionsSchema = z.object({
  host: z.string().default('127.0.0.1'),
  /** 0 = a free port */
  port: nonNegativeInt.default(0),
  seed: nonNegativeInt.default(1),
  ticketCount: nonNegativeInt.default(3000),
  /** seeded generated_timestamps spread over [now - rangeSeconds, now - 2 * minStartAgeSeconds - 1] */
  rangeSeconds: nonNegativeInt.default(30 * 24 * 3600),
  minStartAgeSeconds: tunables.minStartAgeSeconds.default(300),
  windowSeconds: tunables.windowSeconds.default(300),
  sampleWindowSeconds: tunables.sampleWindowSeconds.default(0),
  pageSize: positiveInt.default(1000),
  samplePageSize: positiveInt.default(50),
  /** extra seeded tickets sharing one generated_timestamp each (default: now - 2 * minStartAgeSeconds - 10) */
  bursts: z.array(burstSchema).default([]),
  /** live mutations from the start */
  mutations: mutationSpecSchema.optional(),
  credentials: credentialsSchema.default({}),
  /** serve /__emulator/* */
  testEndpoints: z.boolean().default(true),
  incrementalRequestsPerMinute: tunables.incrementalRequestsPerMinute.default(10),
  usersCursorRequestsPerMinute: tunables.usersCursorRequestsPerMinute.default(20),
  /** Zendesk's smallest plan */
  accountRequestsPerMinute: tunables.accountRequestsPerMinute.default(200),
  incrementalMinStartAgeSeconds: tunables.incrementalMinStartAgeSeconds.default(60),
  /** the seeded tickets' history as ticket events (and metric events); off: the events start with live changes */
  seedEvents: z.boolean().default(true),
  maxPageBytes: tunables.maxPageBytes.default(0),
  /** [min, max] bytes of a full ticket's description */
  descriptionBytes: descriptionBytesSchema.default([600, 3000]),
  /** bytes of a long-text custom field ("Notes", field_360004) on the specified endpoint's rows; 0 = no such field */
  notesBytes: nonNegativeInt.default(0),
  /**
   * OAuth mode when non-empty: POST /oauth/tokens grants these clients tokens (client credentials), and the export
   * endpoints accept only `Authorization: Bearer <token>`
   */
  oauthClients: oauthClientsSchema.default([]),
  /** caps every token's lifetime, in seconds (default: the requested expires_in, or 1800) */
  oauthTokenTtlSeconds: positiveInt.optional(),
  /** clock in ms */
  now: z.custom<() => number>((value) => typeof value === 'function', 'must be a function').default(() => Date.now),
});

export type EmulatorOptions = z.input<typeof emulatorOptionsSchema>;

/** The defaults of every option (the CLI shows them in its help). */
export const EMULATOR_DEFAULTS = Object.freeze(emulatorOptionsSchema.parse({}));

type ParsedOptions = z.output<typeof emulatorOptionsSchema>;

export type ResolvedEmulatorOptions = Omit<ParsedOptions, 'port' | 'bursts' | 'mutations' | 'oauthTokenTtlSeconds'> & {
  /** the port actually bound, once listening */
  port: number;
  bursts: Array<{ size: number; timestamp: number }>;
  /** the running live-mutation schedule, null when stopped */
  mutations: MutationSpec | null;
  oauthTokenTtlSeconds: number | null;
};

/** The timestamp of a burst that names none, in epoch seconds: old enough to be exported right away. */
export function defaultBurstTimestamp(nowSeconds: number, minStartAgeSeconds: number): number {
  return nowSeconds - 2 * minStartAgeSeconds - 10;
}

/**
 * Validated options with every default filled in, the live-mutation schedule to start with, and what the ticket
 * store is seeded with (all as of one reading of the clock).
 */
export function resolveOptions(input: EmulatorOptions): {
  options: ResolvedEmulatorOptions;
  mutations: MutationSpec | undefined;
  seeding: TicketStoreOptions;
  streams: StreamModelOptions;
} {
  const { bursts, mutations, oauthTokenTtlSeconds, ...parsed } = parseInput(emulatorOptionsSchema, input);
  const nowSeconds = Math.floor(parsed.now() / 1000);
  const burstTimestamp = defaultBurstTimestamp(nowSeconds, parsed.minStartAgeSeconds);
  const options: ResolvedEmulatorOptions = {
    ...parsed,
    bursts: bursts.map(({ size, timestamp }) => ({ size, timestamp: timestamp ?? burstTimestamp })),
    mutations: null,
    oauthTokenTtlSeconds: oauthTokenTtlSeconds ?? null,
  };
  const rangeEnd = nowSeconds - 2 * options.minStartAgeSeconds - 1;
  const seeding: TicketStoreOptions = {
    seed: options.seed,
    ticketCount: options.ticketCount,
    rangeStart: Math.min(nowSeconds - options.rangeSeconds, rangeEnd),
    rangeEnd,
    bursts: options.bursts,
    descriptionBytes: options.descriptionBytes,
    notesBytes: options.notesBytes,
  };
  const streams: StreamModelOptions = {
    seed: options.seed,
    rangeStart: seeding.rangeStart,
    rangeEnd,
    seedEvents: options.seedEvents,
  };
  return { options, mutations, seeding, streams };
}

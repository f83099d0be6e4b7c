import { STREAMS, type StreamName, type SupportTypeScope } from '../streams/names';
import { durationSeconds, streamList, supportTypeScope } from './values';
import { z } from 'zod';
import { ConfigError } from './config-error';
import { OPERATOR_RANGES } from '../workflows/settings';
import { accountFor, EXPORT_APIS, ExportApi } from '../shared';
import { API_TOKEN_END_DATE, DEFAULT_OAUTH_SCOPE, DEFAULT_OAUTH_TOKEN_TTL_SECONDS } from '../zendesk/auth';
import fs from 'node:fs';
import type YAML from 'yaml';
import {
  AuthSource,
  FILE_CLIENT_VARIABLES,
  TTL_MESSAGE,
  VARIABLE_FIELDS,
  envName,
  oauthScope,
  passwordRefusal,
  plainHttpProblem,
  validTokenTtl,
  variableProblems,
} from './account-credentials';

// ZENDESK_ACCOUNTS_FILE: many accounts in one JSON or YAML file, each with its base URL, credentials and overrides.

/** One account of ZENDESK_ACCOUNTS_FILE, validated; credentials are still environment-variable names. */
export interface AccountEntry {
  account: string;
  baseUrl: string;
  /** How the worker signs in; absent for the single account of ZENDESK_SUBDOMAIN/ZENDESK_BASE_URL (worker env). */
  auth?: AuthSource;
  /** Per-account export settings; what is absent falls back to the EXPORT_* environment. */
  exportOverrides: {
    api?: ExportApi;
    startTime?: number;
    pollIntervalSeconds?: number;
    minStartAgeSeconds?: number;
    requestsPerMinute?: number;
    perPage?: number;
    streams?: StreamName[];
    usersRequestsPerMinute?: number;
    accountRequestsPerMinute?: number;
    /** Seconds; the file writes a duration (`referenceRefresh: 1 hour`). */
    referenceRefreshSeconds?: number;
    supportTypeScope?: SupportTypeScope;
  };
}

/** The ways to sign in, as the accounts file spells them, for the message when an entry gives none. */
const FILE_MODES =
  'oauthClientIdEnv and oauthClientSecretEnv (OAuth client credentials), oauthAccessTokenEnv (a pre-issued OAuth ' +
  `access token), or email and apiTokenEnv (an API token, accepted until ${API_TOKEN_END_DATE})`;

function wholeNumber(min: number, message: string) {
  return z.number({ invalid_type_error: message }).int(message).min(min, message);
}

function atLeast(min: number, unit: string) {
  return z.number().min(min, `must be a number of ${unit} >= ${min}`).optional();
}

const PER_PAGE_MESSAGE = `must be a whole number from ${OPERATOR_RANGES.perPage.min} to ${OPERATOR_RANGES.perPage.max}`;

const entrySchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._:-]*$/i, 'must be letters, digits, ".", "_", ":" or "-" (it becomes the workflow id)')
      .optional(),
    subdomain: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/i, 'must be a Zendesk subdomain such as "acme"')
      .optional(),
    baseUrl: z
      .string()
      .url('must be an http(s) URL')
      .refine((v) => /^https?:\/\//.test(v), 'must be an http(s) URL')
      .transform((v) => v.replace(/\/+$/, ''))
      .optional(),
    // http:// to a host that is not loopback, on purpose: an emulator on a private network (compose's demo profile).
    plainHttp: z.literal(true, { errorMap: () => ({ message: 'must be true when given' }) }).optional(),
    oauthClientId: z.string().trim().min(1, 'must not be empty').optional(),
    oauthClientIdEnv: envName.optional(),
    oauthClientSecretEnv: envName.optional(),
    oauthScope: oauthScope.optional(),
    oauthTokenTtlSeconds: z.number({ invalid_type_error: TTL_MESSAGE }).refine(validTokenTtl, TTL_MESSAGE).optional(),
    oauthAccessTokenEnv: envName.optional(),
    email: z.string().email('must be an email address').optional(),
    emailEnv: envName.optional(),
    apiTokenEnv: envName.optional(),
    // Only to refuse it with the reason (passwords no longer work), instead of "unknown field".
    passwordEnv: envName.optional(),
    api: z.enum(EXPORT_APIS, { errorMap: () => ({ message: `must be one of ${EXPORT_APIS.join(', ')}` }) }).optional(),
    startTime: wholeNumber(0, 'must be a whole number of epoch seconds >= 0').optional(),
    pollIntervalSeconds: atLeast(OPERATOR_RANGES.pollIntervalSeconds.min, 'seconds'),
    minStartAgeSeconds: atLeast(OPERATOR_RANGES.minStartAgeSeconds.min, 'seconds'),
    requestsPerMinute: atLeast(OPERATOR_RANGES.requestsPerMinute.min, 'requests per minute'),
    perPage: wholeNumber(OPERATOR_RANGES.perPage.min, PER_PAGE_MESSAGE)
      .max(OPERATOR_RANGES.perPage.max, PER_PAGE_MESSAGE)
      .optional(),
    streams: z
      .array(z.string(), { invalid_type_error: `must be a list of streams (${STREAMS.join(', ')})` })
      .transform((names, context) => streamList(names.join(','), context))
      .optional(),
    usersRequestsPerMinute: atLeast(OPERATOR_RANGES.usersRequestsPerMinute.min, 'requests per minute'),
    accountRequestsPerMinute: atLeast(OPERATOR_RANGES.accountRequestsPerMinute.min, 'requests per minute'),
    referenceRefresh: durationSeconds(OPERATOR_RANGES.referenceRefreshSeconds.min).optional(),
    supportTypeScope: supportTypeScope.optional(),
  })
  .strict();

const fileSchema = z.union([z.array(z.unknown()), z.object({ accounts: z.array(z.unknown()) }).strict()]);

/**
 * Keys that would put a secret in the file, and the field that names its variable instead. The file holds only the
 * names of the variables that carry secrets; a client id (`oauthClientId`) is not a secret and may be written.
 */
const SECRET_KEYS: Record<string, string> = {
  apiToken: 'apiTokenEnv',
  api_token: 'apiTokenEnv',
  token: 'oauthAccessTokenEnv (or apiTokenEnv)',
  accessToken: 'oauthAccessTokenEnv',
  access_token: 'oauthAccessTokenEnv',
  oauthAccessToken: 'oauthAccessTokenEnv',
  bearerToken: 'oauthAccessTokenEnv',
  clientSecret: 'oauthClientSecretEnv',
  client_secret: 'oauthClientSecretEnv',
  oauthClientSecret: 'oauthClientSecretEnv',
  secret: 'oauthClientSecretEnv',
};

/** Keys that would put a password in the file: refused twice over (a secret, and Zendesk no longer takes them). */
const PASSWORD_KEYS = new Set(['password', 'passwd']);

/** Reads and validates the accounts file (JSON or YAML); every problem is named with its place in the file. */
export function readAccountsFile(file: string): AccountEntry[] {
  const where = `ZENDESK_ACCOUNTS_FILE (${file})`;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${where}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`]);
  }
  let document: unknown;
  try {
    // Loaded when an accounts file is read: a command without one does not pay for the YAML parser.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const yaml = require('yaml') as typeof YAML;
    document = yaml.parse(text, { prettyErrors: true });
  } catch (err) {
    throw new ConfigError([`${where}: not valid JSON or YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  const shape = fileSchema.safeParse(document);
  if (!shape.success) {
    throw new ConfigError([`${where}: must be a list of accounts, or an object with an "accounts" list`]);
  }
  const raw = Array.isArray(shape.data) ? shape.data : shape.data.accounts;
  const problems: string[] = [];
  if (raw.length === 0) problems.push(`${where}: lists no accounts`);
  const parsed = raw.flatMap((item, i) => parseEntry(item, `${where} accounts[${i}]`, problems));
  const entries = parsed.flatMap((p) => (p.entry ? [p.entry] : []));
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.account)) problems.push(`${where}: the account name "${entry.account}" appears twice`);
    seen.add(entry.account);
  }
  problems.push(...variableProblems(parsed, where));
  if (problems.length > 0) throw new ConfigError(problems);
  return entries;
}

/** An entry that passed the schema: its account name when it has one, the variables it names, and the entry if valid. */
export interface ParsedEntry {
  where: string;
  account?: string;
  variables: { field: string; name: string }[];
  entry?: AccountEntry;
}

function parseEntry(item: unknown, where: string, problems: string[]): ParsedEntry[] {
  if (item && typeof item === 'object') {
    for (const key of Object.keys(item)) {
      if (PASSWORD_KEYS.has(key)) {
        problems.push(
          `${where}.${key}: secrets do not go in the accounts file, and ${passwordRefusal(FILE_CLIENT_VARIABLES)} ` +
            "to the names of the worker's environment variables that hold them",
        );
        return [];
      }
      if (Object.hasOwn(SECRET_KEYS, key)) {
        problems.push(
          `${where}.${key}: secrets do not go in the accounts file; put it in an environment variable of the worker ` +
            `and set ${SECRET_KEYS[key]} to that variable's name`,
        );
        return [];
      }
    }
  }
  const parsed = entrySchema.safeParse(item);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const message =
        issue.code === z.ZodIssueCode.unrecognized_keys ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message;
      problems.push(`${where}${issue.path.map((p) => `.${p}`).join('')}: ${message}`);
    }
    return [];
  }
  const e = parsed.data;
  const before = problems.length;
  if (!e.subdomain && !e.baseUrl) problems.push(`${where}: subdomain or baseUrl is required`);
  const account =
    e.name ?? (e.subdomain || e.baseUrl ? accountFor({ subdomain: e.subdomain, baseUrl: e.baseUrl }) : undefined);
  const variables = VARIABLE_FIELDS.flatMap((field) => (e[field] ? [{ field, name: e[field] }] : []));
  const plain = e.baseUrl && !e.plainHttp ? plainHttpProblem(e.baseUrl) : undefined;
  if (plain) problems.push(`${where}.baseUrl: ${plain}`);
  const auth = authSourceOf(e, where, problems);
  if (problems.length > before || !auth || account === undefined) return [{ where, account, variables }];
  const baseUrl = e.baseUrl ?? `https://${e.subdomain}.zendesk.com`;
  return [
    {
      where,
      account,
      variables,
      entry: {
        account,
        baseUrl,
        auth,
        exportOverrides: {
          api: e.api,
          startTime: e.startTime,
          pollIntervalSeconds: e.pollIntervalSeconds,
          minStartAgeSeconds: e.minStartAgeSeconds,
          requestsPerMinute: e.requestsPerMinute,
          perPage: e.perPage,
          streams: e.streams,
          usersRequestsPerMinute: e.usersRequestsPerMinute,
          accountRequestsPerMinute: e.accountRequestsPerMinute,
          referenceRefreshSeconds: e.referenceRefresh,
          supportTypeScope: e.supportTypeScope,
        },
      },
    },
  ];
}

/** The one way an entry signs in; every problem with it is named (two ways, half of one, a password). */
function authSourceOf(e: z.infer<typeof entrySchema>, where: string, problems: string[]): AuthSource | undefined {
  if (e.passwordEnv) {
    problems.push(`${where}.passwordEnv: ${passwordRefusal(FILE_CLIENT_VARIABLES)}`);
    return undefined;
  }
  const clientCredentials = [
    e.oauthClientId && 'oauthClientId',
    e.oauthClientIdEnv && 'oauthClientIdEnv',
    e.oauthClientSecretEnv && 'oauthClientSecretEnv',
  ].filter((k): k is string => Boolean(k));
  const accessToken = e.oauthAccessTokenEnv ? ['oauthAccessTokenEnv'] : [];
  const apiToken = [e.email && 'email', e.emailEnv && 'emailEnv', e.apiTokenEnv && 'apiTokenEnv'].filter(
    (k): k is string => Boolean(k),
  );
  const given = [clientCredentials, accessToken, apiToken].filter((keys) => keys.length > 0);
  const before = problems.length;
  if (given.length === 0) problems.push(`${where}: a way to sign in is required: ${FILE_MODES}`);
  if (given.length > 1) {
    problems.push(
      `${where}: ${given.map((keys) => keys.join('/')).join(' and ')}: one way to sign in per account, not ` +
        `${given.length}; keep one`,
    );
  }
  const tuning = [e.oauthScope && 'oauthScope', e.oauthTokenTtlSeconds !== undefined && 'oauthTokenTtlSeconds'];
  const stray = tuning.filter((k): k is string => Boolean(k));
  if (stray.length > 0 && clientCredentials.length === 0) {
    problems.push(
      `${where}: ${stray.join(' and ')} apply only to OAuth client credentials (oauthClientIdEnv and oauthClientSecretEnv)`,
    );
  }
  if (problems.length > before) return undefined;
  if (clientCredentials.length > 0) {
    if (e.oauthClientId && e.oauthClientIdEnv) {
      problems.push(`${where}: oauthClientId and oauthClientIdEnv both given; keep one`);
    }
    if (!e.oauthClientId && !e.oauthClientIdEnv) {
      problems.push(`${where}: oauthClientIdEnv (or oauthClientId) is required with oauthClientSecretEnv`);
    }
    if (!e.oauthClientSecretEnv) {
      problems.push(`${where}: oauthClientSecretEnv is required with ${clientCredentials[0]}`);
    }
    if (problems.length > before) return undefined;
    return {
      mode: 'oauth_client_credentials',
      clientId: e.oauthClientId,
      clientIdEnv: e.oauthClientIdEnv,
      clientSecretEnv: e.oauthClientSecretEnv!,
      scope: e.oauthScope ?? DEFAULT_OAUTH_SCOPE,
      tokenTtlSeconds: e.oauthTokenTtlSeconds ?? DEFAULT_OAUTH_TOKEN_TTL_SECONDS,
    };
  }
  if (e.oauthAccessTokenEnv) return { mode: 'oauth_access_token', accessTokenEnv: e.oauthAccessTokenEnv };
  if (e.email && e.emailEnv) problems.push(`${where}: email and emailEnv both given; keep one`);
  if (!e.email && !e.emailEnv) problems.push(`${where}: email (or emailEnv) is required with apiTokenEnv`);
  if (!e.apiTokenEnv) problems.push(`${where}: apiTokenEnv is required with ${apiToken[0]}`);
  if (problems.length > before) return undefined;
  return { mode: 'api_token', email: e.email, emailEnv: e.emailEnv, apiTokenEnv: e.apiTokenEnv! };
}

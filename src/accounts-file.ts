import fs from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { ConfigError } from './config-error';
import { accountFor, EXPORT_APIS, ExportApi } from './shared';

/** One account of ZENDESK_ACCOUNTS_FILE, validated; credentials are still environment-variable names. */
export interface AccountEntry {
  account: string;
  baseUrl: string;
  email?: string;
  emailEnv?: string;
  apiTokenEnv?: string;
  passwordEnv?: string;
  /** Per-account export settings; what is absent falls back to the EXPORT_* environment. */
  exportOverrides: {
    api?: ExportApi;
    startTime?: number;
    pollIntervalSeconds?: number;
    minStartAgeSeconds?: number;
    requestsPerMinute?: number;
    perPage?: number;
  };
}

export interface AccountCredentials {
  email: string;
  apiToken?: string;
  password?: string;
}

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable');

function wholeNumber(min: number, message: string) {
  return z.number({ invalid_type_error: message }).int(message).min(min, message);
}

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
    email: z.string().email('must be an email address').optional(),
    emailEnv: envName.optional(),
    apiTokenEnv: envName.optional(),
    passwordEnv: envName.optional(),
    api: z.enum(EXPORT_APIS, { errorMap: () => ({ message: `must be one of ${EXPORT_APIS.join(', ')}` }) }).optional(),
    startTime: wholeNumber(0, 'must be a whole number of epoch seconds >= 0').optional(),
    pollIntervalSeconds: z.number().min(0.1, 'must be a number of seconds >= 0.1').optional(),
    minStartAgeSeconds: z.number().min(0, 'must be a number of seconds >= 0').optional(),
    requestsPerMinute: z.number().min(0.1, 'must be a number of requests per minute >= 0.1').optional(),
    perPage: wholeNumber(1, 'must be a whole number from 1 to 1000')
      .max(1000, 'must be a whole number from 1 to 1000')
      .optional(),
  })
  .strict();

const fileSchema = z.union([z.array(z.unknown()), z.object({ accounts: z.array(z.unknown()) }).strict()]);

/** Keys that would put a secret in the file; the file holds only the names of the variables that carry them. */
const SECRET_KEYS: Record<string, string> = {
  apiToken: 'apiTokenEnv',
  api_token: 'apiTokenEnv',
  token: 'apiTokenEnv',
  password: 'passwordEnv',
};

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
    document = YAML.parse(text, { prettyErrors: true });
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
  const entries = raw.flatMap((item, i) => parseEntry(item, `${where} accounts[${i}]`, problems));
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.account)) problems.push(`${where}: the account name "${entry.account}" appears twice`);
    seen.add(entry.account);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return entries;
}

function parseEntry(item: unknown, where: string, problems: string[]): AccountEntry[] {
  if (item && typeof item === 'object') {
    for (const key of Object.keys(item)) {
      if (SECRET_KEYS[key]) {
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
  if (e.email && e.emailEnv) problems.push(`${where}: email and emailEnv both given; keep one`);
  if (!e.email && !e.emailEnv) problems.push(`${where}: email (or emailEnv) is required`);
  if (!e.apiTokenEnv && !e.passwordEnv) problems.push(`${where}: apiTokenEnv or passwordEnv is required`);
  if (problems.length > before) return [];
  const baseUrl = e.baseUrl ?? `https://${e.subdomain}.zendesk.com`;
  return [
    {
      account: e.name ?? accountFor({ subdomain: e.subdomain, baseUrl: e.baseUrl }),
      baseUrl,
      email: e.email,
      emailEnv: e.emailEnv,
      apiTokenEnv: e.apiTokenEnv,
      passwordEnv: e.passwordEnv,
      exportOverrides: {
        api: e.api,
        startTime: e.startTime,
        pollIntervalSeconds: e.pollIntervalSeconds,
        minStartAgeSeconds: e.minStartAgeSeconds,
        requestsPerMinute: e.requestsPerMinute,
        perPage: e.perPage,
      },
    },
  ];
}

/** The worker's side: the credentials an entry names, taken from the worker's environment. */
export function credentialsFor(
  entry: AccountEntry,
  env: Record<string, string | undefined>,
  problems: string[],
): AccountCredentials | undefined {
  const before = problems.length;
  let email = entry.email;
  if (!email && entry.emailEnv) {
    email = env[entry.emailEnv]?.trim() || undefined;
    if (!email) problems.push(`account "${entry.account}": emailEnv names ${entry.emailEnv}, which is not set here`);
  }
  const apiToken = (entry.apiTokenEnv && env[entry.apiTokenEnv]?.trim()) || undefined;
  const password = apiToken ? undefined : (entry.passwordEnv && env[entry.passwordEnv]?.trim()) || undefined;
  if (!apiToken && !password) {
    const named = [entry.apiTokenEnv, entry.passwordEnv].filter(Boolean).join(' or ');
    problems.push(`account "${entry.account}": the credential variable ${named} is not set in this environment`);
  }
  if (problems.length > before || !email) return undefined;
  return { email, apiToken, password };
}

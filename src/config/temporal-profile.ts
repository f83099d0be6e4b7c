/**
 * Profiles of the Temporal config file: the TOML file that the Temporal CLI (`temporal config set`) and the SDKs'
 * environment configuration (`@temporalio/envconfig`) share, with one `[profile.<name>]` table per server.
 *
 * The file is TEMPORAL_CONFIG_FILE, else the default one ($XDG_CONFIG_HOME or ~/.config, then
 * temporalio/temporal.toml; ~/Library/Application Support on macOS, %APPDATA% on Windows). The profile is
 * TEMPORAL_PROFILE, else `default`. envconfig parses the TOML and maps the profile; this module finds the file, reads it
 * and checks what it says, so that every mistake is a configuration problem naming the file and the key, and no value
 * (an API key, a private key) ever appears in one. The environment variables override a profile's values
 * (temporal-connection.ts).
 */
import { ClientConfigProfile, fromTomlProfile } from '@temporalio/envconfig';
import type { TomlClientConfigProfile } from '@temporalio/envconfig/lib/envconfig-toml';
// Not re-exported by the package's index; loadClientConfigFromToml, which is, fails on a file without any profile.
import { loadFromTomlData } from '@temporalio/envconfig/lib/envconfig-toml';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

type Env = Record<string, string | undefined>;

export interface TemporalProfile {
  name: string;
  /** The file it was read from. */
  file: string;
  /** Its values as envconfig maps them: TLS files as `{ path }`, inline PEM (`*_data`) as `{ data }`. */
  values: ClientConfigProfile;
}

const DEFAULT_PROFILE = 'default';

const setting = z.string().trim().min(1, 'must not be empty');
/** PEM text, kept as written. */
const pemData = z.string().refine((v) => v.trim() !== '', 'must not be empty');

const PEM_SOURCES = ['client_cert', 'client_key', 'server_ca_cert'] as const;

const tomlTls = z
  .object({
    disabled: z.boolean().optional(),
    server_name: setting.optional(),
    client_cert_path: setting.optional(),
    client_cert_data: pemData.optional(),
    client_key_path: setting.optional(),
    client_key_data: pemData.optional(),
    server_ca_cert_path: setting.optional(),
    server_ca_cert_data: pemData.optional(),
  })
  // disable_host_verification and what later versions add: envconfig ignores them, and so do we.
  .passthrough()
  .superRefine((tls, ctx) => {
    const problem = (key: string, message: string) =>
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message });
    for (const source of PEM_SOURCES) {
      if (tls[`${source}_path`] !== undefined && tls[`${source}_data`] !== undefined) {
        problem(`${source}_path`, `set ${source}_path or ${source}_data, not both`);
      }
    }
    const given = (source: (typeof PEM_SOURCES)[number]) =>
      tls[`${source}_path`] !== undefined || tls[`${source}_data`] !== undefined;
    if (given('client_cert') && !given('client_key')) {
      problem('client_key_path', 'required with client_cert_path (or client_key_data with client_cert_data)');
    }
    if (given('client_key') && !given('client_cert')) {
      problem('client_cert_path', 'required with client_key_path (or client_cert_data with client_key_data)');
    }
  });

const tomlProfile = z
  .object({
    address: setting.optional(),
    namespace: setting.optional(),
    api_key: setting.optional(),
    tls: tomlTls.optional(),
    grpc_meta: z.record(z.string()).optional(),
  })
  // codec (the CLI's remote codec endpoint): not used here, the payload codec has its own settings.
  .passthrough();

/** `profile.<name>.<key>`, as `temporal config get --prop` names it, with the name quoted when TOML needs it. */
export function profileKey(profile: { name: string; file: string }, key?: string): string {
  const name = /^[A-Za-z0-9_-]+$/.test(profile.name) ? profile.name : JSON.stringify(profile.name);
  return `profile.${name}${key ? `.${key}` : ''} in ${profile.file}`;
}

/** Where the Temporal CLI and envconfig look when TEMPORAL_CONFIG_FILE is unset (envconfig's getDefaultConfigFilePath). */
export function defaultConfigFile(env: Env, platform: NodeJS.Platform = os.platform()): string | undefined {
  let dir: string | undefined;
  if (platform === 'win32') dir = env.APPDATA || undefined;
  else if (platform === 'darwin') dir = env.HOME ? path.join(env.HOME, 'Library', 'Application Support') : undefined;
  else if (env.XDG_CONFIG_HOME) dir = path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : undefined;
  else dir = env.HOME ? path.join(env.HOME, '.config') : undefined;
  return dir && path.join(dir, 'temporalio', 'temporal.toml');
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'unknown error';
}

/**
 * The profile that TEMPORAL_PROFILE names (else `default`, if the file has one) from TEMPORAL_CONFIG_FILE (else the
 * default file, if there is one). Undefined profile: none applies, the environment alone configures the connection.
 * Any problem (an unreadable or invalid file, a missing profile named on purpose) is named, never with a value.
 */
export function loadTemporalProfile(env: Env): { profile?: TemporalProfile; problems: string[] } {
  const given = (name: string) => env[name]?.trim() || undefined;
  const explicitFile = given('TEMPORAL_CONFIG_FILE');
  const explicitName = given('TEMPORAL_PROFILE');
  const file = explicitFile ?? defaultConfigFile(env);
  const subject = explicitFile ? 'TEMPORAL_CONFIG_FILE' : 'the default Temporal config file';
  const name = explicitName ?? DEFAULT_PROFILE;
  const noFile = (why: string) => ({
    problems: explicitName
      ? [`TEMPORAL_PROFILE: no profile "${name}": ${why}; set TEMPORAL_CONFIG_FILE to the file that has it`]
      : [],
  });
  if (!file) return noFile('there is no default config file location (HOME is not set)');

  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (!explicitFile && errorCode(err) === 'ENOENT') return noFile(`there is no config file at ${file}`);
    return { problems: [`${subject}: cannot read ${file} (${errorCode(err)})`] };
  }

  let parsed: unknown;
  try {
    parsed = loadFromTomlData(text, false);
  } catch (err) {
    // smol-toml's message goes on with the lines around the mistake, which may hold a key: only its first line.
    const { line, column, message } = err as { line?: unknown; column?: unknown; message?: unknown };
    if (typeof line !== 'number' || typeof column !== 'number' || typeof message !== 'string') throw err;
    const what = message.split('\n')[0].replace(/^Invalid TOML document: /, '');
    return { problems: [`${subject}: ${file} is not valid TOML (line ${line}, column ${column}: ${what})`] };
  }

  const profiles = (parsed as { profile?: unknown }).profile ?? {};
  if (!isTable(profiles)) {
    return { problems: [`${subject}: in ${file}, "profile" must be a table of profiles ([profile.<name>])`] };
  }
  const raw = profiles[name];
  if (raw === undefined) {
    const names = Object.keys(profiles);
    const has = names.length > 0 ? `its profiles: ${names.join(', ')}` : 'it has none';
    return explicitName
      ? { problems: [`TEMPORAL_PROFILE: no profile "${name}" in ${file} (${has})`] }
      : { problems: [] };
  }
  const where = { name, file };
  if (!isTable(raw)) return { problems: [`${profileKey(where)}: must be a table`] };
  const result = tomlProfile.safeParse(raw);
  if (!result.success) {
    // zod's messages say what was expected and got ("Expected string, received number"), never the value.
    return { problems: result.error.issues.map((i) => `${profileKey(where, i.path.join('.'))}: ${i.message}`) };
  }
  return { profile: { ...where, values: fromTomlProfile(result.data as TomlClientConfigProfile) }, problems: [] };
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

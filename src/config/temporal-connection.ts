import type { ConnectionOptions, TLSConfig } from '@temporalio/client';
import type { ConfigDataSource } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import fs from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './config-error';
import { isLoopback } from '../common/loopback';
import { profileKey, TemporalProfile } from './temporal-profile';

export { isLoopback };

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

/** A certificate or key: a file, or (from a profile's `*_data`) the PEM itself. */
type TlsFile = 'serverCaCert' | 'clientCert' | 'clientKey';

export interface TlsSettings {
  clientCertPath?: string;
  clientKeyPath?: string;
  serverCaCertPath?: string;
  serverName?: string;
  clientCertData?: Buffer;
  clientKeyData?: Buffer;
  serverCaCertData?: Buffer;
}

/** The settings a profile can give, named in messages by the profile's key rather than by a variable. */
type ProfileSetting = 'address' | 'apiKey' | 'tlsDisabled' | 'serverName' | 'metadata' | TlsFile;

export interface TemporalConnectionSettings {
  address: string;
  apiKey?: string;
  /** Undefined: plaintext. */
  tls?: TlsSettings;
  /** gRPC headers sent with every call: a profile's grpc_meta. They may hold credentials: never logged. */
  metadata?: Record<string, string>;
  /** The config-file profile under the environment variables; `keys`: the TOML key of each setting it gave. */
  profile?: { name: string; file: string; keys: Partial<Record<ProfileSetting, string>> };
}

// The names the Temporal CLI and envconfig use.
const TLS_VARIABLES = {
  clientCertPath: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  clientKeyPath: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  serverCaCertPath: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  serverName: 'TEMPORAL_TLS_SERVER_NAME',
} as const;

const TLS_FILES = ['serverCaCert', 'clientCert', 'clientKey'] as const satisfies readonly TlsFile[];

/** The profile's TOML key stem of each file: `<stem>_path` or `<stem>_data`. */
const PROFILE_TLS_KEYS = {
  serverCaCert: 'tls.server_ca_cert',
  clientCert: 'tls.client_cert',
  clientKey: 'tls.client_key',
} as const satisfies Record<TlsFile, string>;

const text = z.string().trim().min(1).optional();

/** `true`/`1` or `false`/`0`, any case. */
export const flag = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const lower = v.toLowerCase();
    if (lower === 'true' || lower === '1') return true;
    if (lower === 'false' || lower === '0') return false;
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be true or false, got "${v}"` });
    return z.NEVER;
  })
  .optional();

export const temporalConnectionEnv = z
  .object({
    TEMPORAL_API_KEY: text,
    TEMPORAL_TLS: flag,
    TEMPORAL_TLS_CLIENT_CERT_PATH: text,
    TEMPORAL_TLS_CLIENT_KEY_PATH: text,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: text,
    TEMPORAL_TLS_SERVER_NAME: text,
  })
  .superRefine((env, ctx) => {
    const problem = (variable: string, message: string) =>
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [variable], message });
    const { TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_KEY_PATH: key } = env;
    if (cert && !key) problem(TLS_VARIABLES.clientKeyPath, `required with ${TLS_VARIABLES.clientCertPath}`);
    if (key && !cert) problem(TLS_VARIABLES.clientCertPath, `required with ${TLS_VARIABLES.clientKeyPath}`);
    const tlsSet = Object.values(TLS_VARIABLES).filter((variable) => env[variable] !== undefined);
    if (env.TEMPORAL_TLS === false && tlsSet.length > 0) {
      problem('TEMPORAL_TLS', `is false, but ${tlsSet.join(', ')} ${tlsSet.length === 1 ? 'needs' : 'need'} TLS`);
    }
  });

export type TemporalConnectionEnv = z.infer<typeof temporalConnectionEnv>;

/**
 * The connection: each environment variable over the profile's value (if a profile applies), then the defaults.
 * TLS is on with TEMPORAL_TLS=true, or any TEMPORAL_TLS_* variable; off with TEMPORAL_TLS=false; else as the profile
 * says (a `tls` table turns it on, `tls.disabled = true` off); else on with an API key (Temporal Cloud takes keys over
 * TLS only). The client certificate and its key are one setting: a pair from the environment replaces the profile's.
 */
export function connectionSettingsFrom(
  address: string | undefined,
  env: TemporalConnectionEnv,
  profile?: TemporalProfile,
): TemporalConnectionSettings {
  const values = profile?.values ?? {};
  const keys: Partial<Record<ProfileSetting, string>> = {};
  function fromProfile<T>(setting: ProfileSetting, key: string, value: T | undefined): T | undefined {
    if (value !== undefined) keys[setting] = key;
    return value;
  }
  const settings: TemporalConnectionSettings = {
    address: address ?? fromProfile('address', 'address', values.address) ?? DEFAULT_TEMPORAL_ADDRESS,
  };
  const apiKey = env.TEMPORAL_API_KEY ?? fromProfile('apiKey', 'api_key', values.apiKey);
  if (apiKey !== undefined) settings.apiKey = apiKey;

  const fromEnv: TlsSettings = {};
  for (const setting of Object.keys(TLS_VARIABLES) as (keyof typeof TLS_VARIABLES)[]) {
    const value = env[TLS_VARIABLES[setting]];
    if (value !== undefined) fromEnv[setting] = value;
  }
  let tlsOn: boolean;
  if (env.TEMPORAL_TLS !== undefined) tlsOn = env.TEMPORAL_TLS;
  else if (Object.keys(fromEnv).length > 0) tlsOn = true;
  else if (values.tls) {
    tlsOn = values.tls.disabled !== true;
    if (!tlsOn) keys.tlsDisabled = 'tls.disabled';
  } else tlsOn = apiKey !== undefined;

  if (tlsOn) {
    const tls: TlsSettings = { ...fromEnv };
    const profileTls = values.tls ?? {};
    tls.serverName ??= fromProfile('serverName', 'tls.server_name', profileTls.serverName);
    const pem = (file: TlsFile, source: ConfigDataSource | undefined) => {
      if (!source) return;
      if ('path' in source) {
        tls[`${file}Path`] = fromProfile(file, `${PROFILE_TLS_KEYS[file]}_path`, source.path);
        return;
      }
      const data = typeof source.data === 'string' ? Buffer.from(source.data) : Buffer.from(source.data);
      tls[`${file}Data`] = fromProfile(file, `${PROFILE_TLS_KEYS[file]}_data`, data);
    };
    if (tls.serverCaCertPath === undefined) pem('serverCaCert', profileTls.serverCACert);
    if (tls.clientCertPath === undefined && tls.clientKeyPath === undefined) {
      pem('clientCert', profileTls.clientCert);
      pem('clientKey', profileTls.clientKey);
    }
    for (const setting of Object.keys(tls) as (keyof TlsSettings)[]) {
      if (tls[setting] === undefined) delete tls[setting];
    }
    settings.tls = tls;
  }
  const metadata = fromProfile('metadata', 'grpc_meta', values.grpcMeta);
  if (metadata && Object.keys(metadata).length > 0) settings.metadata = metadata;
  if (profile) settings.profile = { name: profile.name, file: profile.file, keys };
  return settings;
}

/** How a setting is named in a message: its variable, or the profile's key that gave it. */
function nameOf(settings: TemporalConnectionSettings, setting: TlsFile): string {
  const key = settings.profile?.keys[setting];
  return key && settings.profile ? profileKey(settings.profile, key) : TLS_VARIABLES[`${setting}Path`];
}

function readFile(variable: string, path: string, problems: string[]): Buffer | undefined {
  try {
    const content = fs.readFileSync(path);
    if (content.length === 0) problems.push(`${variable}: ${path} is empty`);
    return content;
  } catch (err) {
    problems.push(`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`);
    return undefined;
  }
}

/** Which of the certificate files in use cannot be read: checked with the rest of the configuration. */
export function tlsFileProblems(settings: TemporalConnectionSettings): string[] {
  const problems: string[] = [];
  for (const file of TLS_FILES) {
    const path = settings.tls?.[`${file}Path`];
    if (path) readFile(nameOf(settings, file), path, problems);
  }
  return problems;
}

/** Reads the certificate files now, so a bad path fails at startup with the variable (or profile key) named. */
function tlsConfig(settings: TemporalConnectionSettings): TLSConfig | false {
  const { tls } = settings;
  if (!tls) return false;
  const problems: string[] = [];
  const config: TLSConfig = {};
  const pem = (file: TlsFile): Buffer | undefined => {
    const path = tls[`${file}Path`];
    return tls[`${file}Data`] ?? (path ? readFile(nameOf(settings, file), path, problems) : undefined);
  };
  if (tls.serverName) config.serverNameOverride = tls.serverName;
  if (tls.serverCaCertPath || tls.serverCaCertData) config.serverRootCACertificate = pem('serverCaCert');
  const hasCert = Boolean(tls.clientCertPath || tls.clientCertData);
  const hasKey = Boolean(tls.clientKeyPath || tls.clientKeyData);
  if (hasCert || hasKey) {
    // Settings built by hand skip the schema; half a pair must not quietly become TLS without a certificate.
    if (!hasCert) problems.push(`${TLS_VARIABLES.clientCertPath}: required with ${TLS_VARIABLES.clientKeyPath}`);
    if (!hasKey) problems.push(`${TLS_VARIABLES.clientKeyPath}: required with ${TLS_VARIABLES.clientCertPath}`);
    const crt = hasCert && pem('clientCert');
    const key = hasKey && pem('clientKey');
    if (crt && key) config.clientCertPair = { crt, key };
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

// `tls: false` is explicit because the SDK turns TLS on whenever an API key is given and `tls` is undefined.
/** Where and how the worker's native connection (the SDK core) connects. */
export function nativeConnectionOptions(settings: TemporalConnectionSettings): NativeConnectionOptions {
  return {
    address: settings.address,
    tls: tlsConfig(settings),
    apiKey: settings.apiKey,
    ...(settings.metadata && { metadata: settings.metadata }),
  };
}

/** The same for a client connection (the CLI, the worker's own client), which gives up connecting after 10 s. */
export function clientConnectionOptions(settings: TemporalConnectionSettings): ConnectionOptions {
  return { ...nativeConnectionOptions(settings), connectTimeout: '10 seconds' };
}

/**
 * An API key is a credential: in plaintext (TEMPORAL_TLS=false, or a profile's tls.disabled) it may go to a loopback
 * server only, as a Zendesk credential may go over http:// only to a loopback host.
 */
export function plaintextApiKeyProblems(settings: TemporalConnectionSettings): string[] {
  const { address, profile } = settings;
  if (settings.apiKey === undefined || settings.tls || isLoopback(address)) return [];
  const key = profile?.keys.apiKey ? profileKey(profile, profile.keys.apiKey) : 'TEMPORAL_API_KEY';
  const [off, turnOn] = profile?.keys.tlsDisabled
    ? [
        `${profileKey(profile, 'tls.disabled')} is true`,
        'set TEMPORAL_TLS=true or remove tls.disabled from the profile',
      ]
    : ['TEMPORAL_TLS is false', 'unset TEMPORAL_TLS'];
  return [
    `${key}: ${off}, so the key would travel in plaintext to ${address.replace(/:\d+$/, '')}, which is not this ` +
      `machine; turn TLS on (${turnOn}), or send an API key without TLS only to a loopback server (127.0.0.1, ::1, ` +
      'localhost)',
  ];
}

/** A profile's `authorization` header and an API key would both claim the call: one or the other. */
function metadataProblems(settings: TemporalConnectionSettings): string[] {
  const { profile, metadata } = settings;
  if (!profile || !metadata || settings.apiKey === undefined) return [];
  const header = Object.keys(metadata).find((name) => name.toLowerCase() === 'authorization');
  if (header === undefined) return [];
  const key = profile.keys.apiKey ? 'api_key' : 'TEMPORAL_API_KEY';
  return [`${profileKey(profile, `grpc_meta.${header}`)}: ${key} is set too; keep one of them`];
}

/** Everything wrong with the connection settings that the schema cannot see: files, plaintext keys, conflicts. */
export function connectionProblems(settings: TemporalConnectionSettings): string[] {
  return [...tlsFileProblems(settings), ...plaintextApiKeyProblems(settings), ...metadataProblems(settings)];
}

/** For logs: how the connection is secured and where its settings come from, never a key, header or file content. */
export function describeConnection(settings: TemporalConnectionSettings): string {
  const { tls, profile } = settings;
  const parts = tls ? ['TLS'] : ['plaintext'];
  if (tls?.serverCaCertPath || tls?.serverCaCertData) parts.push('custom CA');
  if (tls?.serverName) parts.push(`server name ${tls.serverName}`);
  if (tls?.clientCertPath || tls?.clientCertData) parts.push('client certificate');
  if (settings.apiKey !== undefined) parts.push('API key');
  if (settings.metadata) parts.push('gRPC metadata');
  if (profile) parts.push(`profile ${JSON.stringify(profile.name)} in ${profile.file}`);
  return `${settings.address} (${parts.join(', ')})`;
}

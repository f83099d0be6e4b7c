import type { ConnectionOptions, TLSConfig } from '@temporalio/client';
import type { NativeConnectionOptions } from '@temporalio/worker';
import fs from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './config-error';
import { isLoopback } from './loopback';

export { isLoopback };

export interface TemporalConnectionSettings {
  address: string;
  apiKey?: string;
  /** Undefined: plaintext. */
  tls?: { clientCertPath?: string; clientKeyPath?: string; serverCaCertPath?: string; serverName?: string };
}

type TlsSettings = NonNullable<TemporalConnectionSettings['tls']>;

// The names the Temporal CLI and envconfig use.
const TLS_VARIABLES = {
  clientCertPath: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  clientKeyPath: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  serverCaCertPath: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  serverName: 'TEMPORAL_TLS_SERVER_NAME',
} as const satisfies Record<keyof TlsSettings, string>;

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

export function connectionSettingsFrom(address: string, env: TemporalConnectionEnv): TemporalConnectionSettings {
  const tls: TlsSettings = {};
  for (const setting of Object.keys(TLS_VARIABLES) as (keyof TlsSettings)[]) {
    const value = env[TLS_VARIABLES[setting]];
    if (value !== undefined) tls[setting] = value;
  }
  const apiKey = env.TEMPORAL_API_KEY;
  // Temporal Cloud takes API keys over TLS only; a local server with TEMPORAL_TLS=false may take one in plaintext.
  const tlsOn =
    env.TEMPORAL_TLS === true || Object.keys(tls).length > 0 || (apiKey !== undefined && env.TEMPORAL_TLS !== false);
  return { address, ...(apiKey !== undefined && { apiKey }), ...(tlsOn && { tls }) };
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

/** Which of the configured certificate files cannot be read: checked with the rest of the configuration. */
export function tlsFileProblems(env: TemporalConnectionEnv): string[] {
  const problems: string[] = [];
  for (const variable of [
    TLS_VARIABLES.serverCaCertPath,
    TLS_VARIABLES.clientCertPath,
    TLS_VARIABLES.clientKeyPath,
  ] as const) {
    const path = env[variable];
    if (path) readFile(variable, path, problems);
  }
  return problems;
}

/** Reads the certificate files now, so a bad path fails at startup with the variable named. */
function tlsConfig(tls: TlsSettings | undefined): TLSConfig | false {
  if (!tls) return false;
  const problems: string[] = [];
  const config: TLSConfig = {};
  if (tls.serverName) config.serverNameOverride = tls.serverName;
  if (tls.serverCaCertPath) {
    config.serverRootCACertificate = readFile(TLS_VARIABLES.serverCaCertPath, tls.serverCaCertPath, problems);
  }
  if (tls.clientCertPath || tls.clientKeyPath) {
    // Settings built by hand skip the schema; half a pair must not quietly become TLS without a certificate.
    if (!tls.clientCertPath) {
      problems.push(`${TLS_VARIABLES.clientCertPath}: required with ${TLS_VARIABLES.clientKeyPath}`);
    }
    if (!tls.clientKeyPath) {
      problems.push(`${TLS_VARIABLES.clientKeyPath}: required with ${TLS_VARIABLES.clientCertPath}`);
    }
    const crt = tls.clientCertPath && readFile(TLS_VARIABLES.clientCertPath, tls.clientCertPath, problems);
    const key = tls.clientKeyPath && readFile(TLS_VARIABLES.clientKeyPath, tls.clientKeyPath, problems);
    if (crt && key) config.clientCertPair = { crt, key };
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

// `tls: false` is explicit because the SDK turns TLS on whenever an API key is given and `tls` is undefined.
export function nativeConnectionOptions(settings: TemporalConnectionSettings): NativeConnectionOptions {
  return { address: settings.address, tls: tlsConfig(settings.tls), apiKey: settings.apiKey };
}

export function clientConnectionOptions(settings: TemporalConnectionSettings): ConnectionOptions {
  return {
    address: settings.address,
    tls: tlsConfig(settings.tls),
    apiKey: settings.apiKey,
    connectTimeout: '10 seconds',
  };
}

/**
 * An API key is a credential: in plaintext (TEMPORAL_TLS=false) it may go to a loopback server only, as a Zendesk
 * credential may go over http:// only to a loopback host.
 */
export function plaintextApiKeyProblems(address: string, env: TemporalConnectionEnv): string[] {
  const settings = connectionSettingsFrom(address, env);
  if (settings.apiKey === undefined || settings.tls || isLoopback(address)) return [];
  return [
    `TEMPORAL_API_KEY: TEMPORAL_TLS is false, so the key would travel in plaintext to ${address.replace(/:\d+$/, '')}, ` +
      'which is not this machine; turn TLS on (unset TEMPORAL_TLS), or send an API key without TLS only to a loopback ' +
      'server (127.0.0.1, ::1, localhost)',
  ];
}

/** For logs: how the connection is secured, never the key or file contents. */
export function describeConnection(settings: TemporalConnectionSettings): string {
  const { tls } = settings;
  const parts = tls ? ['TLS'] : ['plaintext'];
  if (tls?.serverCaCertPath) parts.push('custom CA');
  if (tls?.serverName) parts.push(`server name ${tls.serverName}`);
  if (tls?.clientCertPath) parts.push('client certificate');
  if (settings.apiKey !== undefined) parts.push('API key');
  return `${settings.address} (${parts.join(', ')})`;
}

// docker-compose.yml, deploy/ and the Dockerfile against the code they run: the worker's configuration as compose
// sets it must load, and the ports, hosts, credentials, search attributes and entry files must agree on both sides.
// Nothing here needs Docker: the files are read as data.
import { SearchAttributeType } from '@temporalio/common';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import YAML from 'yaml';
import { AccountEntry, readAccountsFile } from '../../src/config/accounts-file';
import { AuthSource } from '../../src/config/account-credentials';
import { createDataConverter } from '../../src/codec/claim-check';
import { startCodecServer } from '../../src/codec/codec-server';
import type { EncryptionSettings } from '../../src/codec/encryption-keys';
import {
  CodecServerConfig,
  loadClientConfig,
  loadCodecServerConfig,
  loadWorkerConfig,
  WorkerConfig,
} from '../../src/config';
import { DEFAULT_CREDENTIALS } from '../../src/emulator';
import { ZendeskAuth } from '../../src/zendesk/auth';
import { DEFAULT_TASK_QUEUE, SEARCH_ATTRIBUTE_KEYS } from '../../src/shared';
import { readCommandLine } from '../../src/cli/command-line';
import type { Invocation } from '../../src/cli/commands';
import { isServiceCommand, SERVICE_COMMANDS, type ServiceCommand } from '../../src/cli/services';
import { PREBUILT_BUNDLE_PATH } from '../../src/temporal/workflow-bundle';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

type Env = Record<string, string>;

interface PortObject {
  target: number | string;
  published?: number | string;
  host_ip?: string;
}
interface VolumeObject {
  type?: string;
  source?: string;
  target: string;
}
type SecretReference = string | { source: string; target?: string };
interface Service {
  image?: string;
  build?: unknown;
  profiles?: string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | PortObject)[];
  volumes?: (string | VolumeObject)[];
  command?: string | string[];
  entrypoint?: string | string[];
  healthcheck?: { test?: string | string[] };
  secrets?: SecretReference[];
  networks?: string[] | Record<string, unknown>;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, unknown>;
  secrets?: Record<string, { file?: string; environment?: string }>;
}

// `merge`: compose resolves YAML merge keys (`<<: *anchor`), which YAML 1.2 leaves to the application.
const compose = YAML.parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const services = compose.services;
const EXAMPLE_ACCOUNTS = path.join(ROOT, 'deploy/accounts.example.yaml');

// The passwords compose requires (`${VAR:?...}`, no default) and the payload encryption key file the compose secret
// reads, as the shell that runs compose would set them; every test starts from this shell. The key is a throwaway one
// in a temporary directory: deploy/secrets/ holds the operator's own, never committed.
const KEY_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-compose-key-'));
const KEY_FILE = path.join(KEY_DIR, 'payload-encryption.key');
fs.writeFileSync(KEY_FILE, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
afterAll(() => fs.rmSync(KEY_DIR, { recursive: true, force: true }));
const REQUIRED_SHELL: Env = {
  POSTGRES_PASSWORD: 'temporal-db-pw',
  SINK_DB_PASSWORD: 'sink-db-pw',
  PAYLOAD_ENCRYPTION_KEY_FILE_HOST: KEY_FILE,
};

function service(name: string): Service {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

/**
 * Compose's variable substitution: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`
 * and `${VAR?message}`, with `env` as the shell that runs compose.
 */
function interpolate(text: string, env: Env = {}): string {
  const pattern = /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;
  const result = text.replace(
    pattern,
    (_match, dollar?: string, braced?: string, op?: string, arg = '', bare?: string) => {
      if (dollar) return '\0';
      const name = (braced ?? bare) as string;
      const value = env[name];
      switch (op) {
        case ':-':
          return value ? value : arg;
        case '-':
          return value ?? arg;
        case ':?':
        case '?':
          if (value === undefined || (op === ':?' && value === '')) throw new Error(`${name}: ${arg}`);
          return value;
        default:
          return value ?? '';
      }
    },
  );
  if (result.includes('${')) throw new Error(`unsupported substitution in "${text}"`);
  return result.replace(/\0/g, '$');
}

function rawEnvironment(name: string): Record<string, string | null> {
  const raw = service(name).environment ?? {};
  const entries: [string, string | null][] = Array.isArray(raw)
    ? raw.map((line) =>
        line.includes('=') ? [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] : [line, null],
      )
    : Object.entries(raw).map(([key, value]) => [key, value === null ? null : String(value)]);
  return Object.fromEntries(entries);
}

/**
 * A service's environment as its container sees it, compose run from a shell with `env` on top of `base` (the
 * variables compose requires).
 */
function environmentOf(name: string, env: Env = {}, base: Env = REQUIRED_SHELL): Env {
  const shell = { ...base, ...env };
  const resolved: Env = {};
  for (const [key, value] of Object.entries(rawEnvironment(name))) {
    if (value !== null) resolved[key] = interpolate(value, shell);
    else if (shell[key] !== undefined) resolved[key] = shell[key]; // `KEY:` alone passes the shell's value through
  }
  return resolved;
}

/** The compose secrets a service mounts: its name and the path the container reads it at. */
function secretsOf(name: string): { source: string; target: string }[] {
  return (service(name).secrets ?? []).map((secret) => {
    const { source, target } = typeof secret === 'string' ? { source: secret, target: undefined } : secret;
    // Short syntax, or no target: /run/secrets/<name>; a relative target is under /run/secrets too.
    return { source, target: path.posix.resolve('/run/secrets', target ?? source) };
  });
}

/** The host file of a top-level file secret, compose run from a shell with `env`. */
function secretHostFile(secret: string, env: Env = {}): string {
  const file = compose.secrets?.[secret]?.file;
  if (file === undefined) throw new Error(`docker-compose.yml has no file secret "${secret}"`);
  return path.resolve(ROOT, interpolate(file, { ...REQUIRED_SHELL, ...env }));
}

/** The host file behind a path a service reads under /run/secrets. */
function hostSecretFile(name: string, inContainer: string, env: Env = {}): string {
  const secret = secretsOf(name).find((s) => s.target === inContainer);
  if (!secret) throw new Error(`${name}: no compose secret is mounted at ${inContainer}`);
  return secretHostFile(secret.source, env);
}

interface PortMapping {
  hostIp?: string;
  published?: number;
  target: number;
}

function portsOf(name: string): PortMapping[] {
  return (service(name).ports ?? []).map((port) => {
    if (typeof port === 'object') {
      return {
        hostIp: port.host_ip,
        published: port.published === undefined ? undefined : Number(port.published),
        target: Number(port.target),
      };
    }
    const parts = interpolate(String(port))
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const target = Number(parts.pop());
    const published = parts.length > 0 ? Number(parts.pop()) : undefined;
    return { hostIp: parts.pop(), published, target };
  });
}

function publishedPort(name: string, target: number): PortMapping | undefined {
  return portsOf(name).find((port) => port.target === target);
}

function mountsOf(name: string, env: Env = {}): { source: string; target: string; readOnly: boolean }[] {
  return (service(name).volumes ?? []).map((volume) => {
    if (typeof volume === 'object') return { source: volume.source ?? '', target: volume.target, readOnly: false };
    const [source, target, mode = ''] = interpolate(volume, env).split(':');
    return { source, target, readOnly: mode.split(',').includes('ro') };
  });
}

function dependenciesOf(name: string): Record<string, string> {
  const dependsOn = service(name).depends_on ?? [];
  if (Array.isArray(dependsOn)) return Object.fromEntries(dependsOn.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(dependsOn).map(([d, spec]) => [d, spec.condition ?? 'service_started']));
}

function words(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : interpolate(value).trim().split(/\s+/);
}

function flagValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** `ID:SECRET` values, as the emulator's --oauth-client and EMULATOR_OAUTH_CLIENTS (comma-separated) take them. */
function parseClients(values: string[]): { clientId: string; clientSecret: string }[] {
  return values.map((value) => ({
    clientId: value.slice(0, value.indexOf(':')),
    clientSecret: value.slice(value.indexOf(':') + 1),
  }));
}

/** The OAuth clients an emulator with this environment grants tokens to. */
function emulatorClients(env: Env): { clientId: string; clientSecret: string }[] {
  return parseClients((env.EMULATOR_OAUTH_CLIENTS ?? '').split(',').filter((c) => c.trim() !== ''));
}

/** The variables an account of the accounts file names for its credentials: the secret ones, then the others. */
function credentialVariables(auth: AuthSource | undefined): { secret: string[]; plain: string[] } {
  switch (auth?.mode) {
    case 'oauth_client_credentials':
      return { secret: [auth.clientSecretEnv], plain: auth.clientIdEnv ? [auth.clientIdEnv] : [] };
    case 'oauth_access_token':
      return { secret: [auth.accessTokenEnv], plain: [] };
    case 'api_token':
      return { secret: [auth.apiTokenEnv], plain: auth.emailEnv ? [auth.emailEnv] : [] };
    default:
      return { secret: [], plain: [] };
  }
}

/** The secret of a loaded account's credentials. */
function secretOf(auth: ZendeskAuth): string {
  if (auth.mode === 'oauth_client_credentials') return auth.clientSecret;
  return auth.mode === 'oauth_access_token' ? auth.accessToken : auth.apiToken;
}

/** The accounts file the worker reads, mapped from its container path to the file compose mounts there. */
function hostAccountsFile(name: string, env: Env = {}): string {
  const inContainer = environmentOf(name, env).ZENDESK_ACCOUNTS_FILE;
  const mount = mountsOf(name, env).find((m) => m.target === inContainer);
  if (!mount) throw new Error(`${name}: nothing is mounted at ZENDESK_ACCOUNTS_FILE (${inContainer})`);
  expect(mount.readOnly).toBe(true);
  return path.resolve(ROOT, mount.source);
}

/**
 * A service's environment with the files it reads at paths compose mounts (ZENDESK_ACCOUNTS_FILE, a volume;
 * PAYLOAD_ENCRYPTION_KEY_FILE, a secret) pointing at their host files, as the configuration loaders read it here.
 */
function hostEnvironmentOf(name: string, env: Env = {}): Env {
  const resolved: Env = { ...environmentOf(name, env) };
  if (resolved.ZENDESK_ACCOUNTS_FILE !== undefined) resolved.ZENDESK_ACCOUNTS_FILE = hostAccountsFile(name, env);
  if (resolved.PAYLOAD_ENCRYPTION_KEY_FILE !== undefined) {
    resolved.PAYLOAD_ENCRYPTION_KEY_FILE = hostSecretFile(name, resolved.PAYLOAD_ENCRYPTION_KEY_FILE, env);
  }
  return resolved;
}

function workerConfigOf(name: string, env: Env = {}): WorkerConfig {
  return loadWorkerConfig(hostEnvironmentOf(name, env));
}

function codecConfigOf(name: string, env: Env = {}): CodecServerConfig {
  return loadCodecServerConfig(hostEnvironmentOf(name, env));
}

/** The networks a service joins: the ones it lists, else compose's `default`. */
function networksOf(name: string): string[] {
  const networks = service(name).networks;
  if (networks === undefined) return ['default'];
  return Array.isArray(networks) ? networks : Object.keys(networks);
}

/** The role and database of the worker's SINK_URL. */
function sinkAccount(env: Env = {}): { user: string; database: string } {
  const url = new URL(environmentOf('worker', env).SINK_URL);
  return { user: decodeURIComponent(url.username), database: decodeURIComponent(url.pathname.slice(1)) };
}

/** The databases the Temporal server uses (its config template's defaults when unset). */
function temporalDatabases(env: Env = {}): string[] {
  const temporal = environmentOf('temporal', env);
  return [temporal.DBNAME ?? 'temporal', temporal.VISIBILITY_DBNAME ?? 'temporal_visibility'];
}

interface PackageJson {
  bin: Record<string, string>;
  engines: { node: string };
  scripts: Record<string, string>;
}
const packageJson = () => JSON.parse(read('package.json')) as PackageJson;

/** The tsconfig `npm run build` compiles with (its `tsc -p` step), which the test below pins down. */
const BUILD_CONFIG = 'tsconfig.build.json';

/** `npm run build`'s steps: the commands its script chains with `&&`. */
function buildSteps(): string[] {
  return packageJson()
    .scripts.build.split('&&')
    .map((step) => step.trim());
}

/** The build's tsconfig and the repository's files it extends: what the image's build stage must copy. */
function buildConfigFiles(): string[] {
  const files: string[] = [];
  let file: string | undefined = BUILD_CONFIG;
  while (file !== undefined) {
    files.push(file);
    const config = ts.readConfigFile(path.join(ROOT, file), ts.sys.readFile).config as { extends?: string };
    const extended: string | undefined = config.extends;
    // `./tsconfig.json`: a file of the repository; `@tsconfig/node20/...`: a package, installed by npm ci.
    file = extended?.startsWith('.') ? path.posix.join(path.posix.dirname(file), extended) : undefined;
  }
  return files;
}

/**
 * Where `npm run build` puts a file of the source tree: the .js `tsc` writes for a .ts file, from the build's
 * tsconfig (rootDir, outDir, extends); for a path built at run time from `__dirname`, where it points from lib/.
 */
function compiledPathOf(source: string): string {
  const configFile = path.join(ROOT, BUILD_CONFIG);
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configFile, ts.sys.readFile).config, ts.sys, ROOT);
  const { rootDir = ROOT, outDir } = parsed.options;
  if (!outDir) throw new Error(`${BUILD_CONFIG} has no outDir`);
  const relative = path.relative(rootDir, path.join(ROOT, source)).replace(/\.ts$/, '.js');
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new Error(`${source} is outside ${BUILD_CONFIG}'s rootDir: the build does not put it in ${outDir}`);
  }
  return path.relative(ROOT, path.join(outDir, relative)).split(path.sep).join('/');
}

/** The source file an npm script runs with ts-node, e.g. `ts-node src/cli/main.ts` for `client`. */
function scriptEntry(script: string): string {
  const match = /ts-node\s+(\S+\.ts)/.exec(packageJson().scripts[script] ?? '');
  if (!match) throw new Error(`package.json script "${script}" does not run a .ts file with ts-node`);
  return match[1];
}

/** The zendesk-export command's source (`npm run client`); the image's entrypoint is the file the build makes of it. */
const CLI_SOURCE = 'src/cli/main.ts';

/**
 * A command line as the zendesk-export command reads it (the image's entrypoint with a service's `command`): the
 * command and its options, or the CLI's usage error.
 */
function cliInvocation(argv: string[]): Invocation | { exitCode: number; error: string } {
  const errors: string[] = [];
  const io = { env: {}, out: () => undefined, err: (line: string) => void errors.push(line) };
  const invocation = readCommandLine(argv, io);
  return typeof invocation === 'number' ? { exitCode: invocation, error: errors.join('\n') } : invocation;
}

/**
 * The service command a compose service runs from the image, checked to be one the CLI knows and to load the module
 * its npm script runs (e.g. `codec-server`: src/codec/main.ts, as `npm run codec-server`).
 */
function serviceCommandOf(name: string, script: string): ServiceCommand {
  const argv = words(service(name).command);
  const invocation = cliInvocation(argv);
  expect({ name, argv, invocation }).toEqual({ name, argv, invocation: expect.objectContaining({ command: argv[0] }) });
  const command = argv[0];
  if (!isServiceCommand(command)) throw new Error(`${name}: ${command} is not a service command of the CLI`);
  const entry = scriptEntry(script);
  expect(fs.existsSync(path.join(ROOT, entry))).toBe(true);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module the npm script runs
  expect(SERVICE_COMMANDS[command].load()).toBe(require(path.join(ROOT, entry)));
  return command;
}

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions per stage, continuation lines joined, comments and parser directives dropped. */
function dockerfileStages(): Instruction[][] {
  const text = read('Dockerfile').replace(/\\\r?\n/g, ' ');
  const stages: Instruction[][] = [];
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(trimmed) as RegExpExecArray;
    if (keyword.toUpperCase() === 'FROM') stages.push([]);
    stages[stages.length - 1].push({ keyword: keyword.toUpperCase(), args: args.trim() });
  }
  return stages;
}

function argsOf(stage: Instruction[], keyword: string): string[] {
  return stage.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** `KEY=value KEY2=value2` or the legacy `KEY value` form of ENV. */
function envInstructions(stage: Instruction[]): Env {
  const env: Env = {};
  for (const args of argsOf(stage, 'ENV')) {
    if (!/^\S+=/.test(args)) {
      const [key, ...rest] = args.split(/\s+/);
      env[key] = rest.join(' ');
      continue;
    }
    for (const match of args.matchAll(/(\S+?)=("[^"]*"|\S*)/g)) env[match[1]] = match[2].replace(/^"|"$/g, '');
  }
  return env;
}

describe('docker-compose.yml', () => {
  test('the Temporal server reads our dynamic config, which turns on eager activity execution', () => {
    const temporalServer = service('temporal');
    const file = rawEnvironment('temporal').DYNAMIC_CONFIG_FILE_PATH;
    const mount = (temporalServer.volumes ?? []).find((v) => typeof v === 'string' && v.split(':')[1] === file);
    expect(mount).toBe('./deploy/temporal/dynamicconfig.yaml:/etc/temporal/config/dynamicconfig/exporter.yaml:ro');
    const config = YAML.parse(fs.readFileSync(path.join(ROOT, 'deploy/temporal/dynamicconfig.yaml'), 'utf8'));
    expect(config).toEqual({ 'system.enableActivityEagerExecution': [{ value: true }] });
  });

  test('every service runs a pinned image or the Dockerfile', () => {
    expect(Object.keys(services).length).toBeGreaterThan(0);
    for (const [name, svc] of Object.entries(services)) {
      if (svc.build !== undefined) {
        expect({ name, image: svc.image ?? 'zendesk-temporal-export' }).toEqual({
          name,
          image: expect.stringMatching(/^zendesk-temporal-export(:|$)/),
        });
        continue;
      }
      // A tag with a version number: no `latest`, no untagged image (digests would also do).
      expect({ name, image: svc.image }).toEqual({
        name,
        image: expect.stringMatching(/^[^:@\s]+(:[^:@\s]*\d[^:@\s]*|@sha256:[0-9a-f]{64})$/),
      });
      expect(svc.image).not.toMatch(/:latest$/);
    }
    // The plain server: auto-setup (schema and namespace set up by the server container at each start) is meant
    // for development only, and nothing here runs it.
    expect(service('temporal').image).toMatch(/^temporalio\/server:1\.2\d\.\d+$/);
    for (const [name, svc] of Object.entries(services)) {
      expect({ name, image: svc.image ?? '' }).not.toEqual({ name, image: expect.stringMatching(/auto-setup/) });
    }
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:2\.\d+\.\d+$/);
    expect(service('postgresql').image).toMatch(/^postgres:16(\.\d+)?$/);
    // admin-tools releases follow the server's: same version, so its CLI speaks the server's API and its schema
    // files are the ones this server expects.
    const serverVersion = (service('temporal').image as string).split(':')[1];
    for (const job of ['temporal-schema', 'temporal-admin']) {
      expect({ job, image: service(job).image }).toEqual({
        job,
        image: expect.stringMatching(new RegExp(`^temporalio/admin-tools:${serverVersion.replace(/\./g, '\\.')}(-|$)`)),
      });
    }
  });

  test("the image's services run the image's entrypoint, each with a command the CLI knows", () => {
    const fromImage = Object.keys(services).filter((name) => service(name).build !== undefined);
    expect(fromImage.sort()).toEqual(['client', 'codec', 'emulator', 'worker', 'worker-extra']);
    for (const name of fromImage) {
      // The zendesk-export command (the Dockerfile's ENTRYPOINT, checked below), never a file of the image's lib/.
      expect({ name, entrypoint: service(name).entrypoint }).toEqual({ name, entrypoint: undefined });
      const argv = words(service(name).command);
      if (argv.length === 0) continue; // the image's CMD
      const invocation = cliInvocation(argv);
      expect({ name, argv, parsed: 'command' in invocation }).toEqual({ name, argv, parsed: true });
    }
  });

  test('depends_on names existing services, and a service every `up` starts never waits for a profile-only one', () => {
    const conditions = ['service_started', 'service_healthy', 'service_completed_successfully'];
    for (const name of Object.keys(services)) {
      for (const [dependency, condition] of Object.entries(dependenciesOf(name))) {
        expect({ name, dependency, exists: dependency in services }).toEqual({ name, dependency, exists: true });
        expect(conditions).toContain(condition);
        if (!service(name).profiles?.length) {
          expect({ name, dependency, profiles: service(dependency).profiles ?? [] }).toEqual({
            name,
            dependency,
            profiles: [],
          });
        }
        if (condition === 'service_healthy') {
          expect({ dependency, healthcheck: service(dependency).healthcheck?.test !== undefined }).toEqual({
            dependency,
            healthcheck: true,
          });
        }
      }
    }
    // The worker starts once PostgreSQL answers, Temporal serves, and the search attributes exist.
    expect(dependenciesOf('worker')).toEqual({
      postgresql: 'service_healthy',
      temporal: 'service_healthy',
      'temporal-admin': 'service_completed_successfully',
    });
    // The server starts on schemas the one-shot job has brought to its version, and only if that job succeeded.
    expect(dependenciesOf('temporal')).toEqual({
      postgresql: 'service_healthy',
      'temporal-schema': 'service_completed_successfully',
    });
    expect(dependenciesOf('temporal-schema')).toEqual({ postgresql: 'service_healthy' });
    expect(service('temporal-schema').profiles ?? []).toEqual([]);
  });

  test('named volumes are declared and bind-mounted files exist', () => {
    for (const name of Object.keys(services)) {
      for (const { source } of mountsOf(name)) {
        if (source.startsWith('.') || source.startsWith('/')) {
          expect({ name, source, exists: fs.existsSync(path.resolve(ROOT, source)) }).toEqual({
            name,
            source,
            exists: true,
          });
        } else {
          expect({ name, source, declared: source in (compose.volumes ?? {}) }).toEqual({
            name,
            source,
            declared: true,
          });
        }
      }
    }
    expect(mountsOf('postgresql').map((m) => m.target)).toContain('/var/lib/postgresql/data');
  });

  describe('the worker', () => {
    test('its environment is a valid worker configuration for the example accounts', () => {
      expect(hostAccountsFile('worker')).toBe(EXAMPLE_ACCOUNTS);
      const config = workerConfigOf('worker');
      expect(config.temporal).toEqual({
        address: 'temporal:7233',
        namespace: 'default',
        taskQueue: DEFAULT_TASK_QUEUE,
      });
      const accounts = readAccountsFile(EXAMPLE_ACCOUNTS);
      expect(config.accounts.map((a) => a.account)).toEqual(accounts.map((a) => a.account));
    });

    test('passes through every credential variable the accounts file names, from the shell that runs compose', () => {
      const raw = rawEnvironment('worker');
      const accounts = readAccountsFile(EXAMPLE_ACCOUNTS);
      const named = accounts.flatMap((a) => {
        const { secret, plain } = credentialVariables(a.auth);
        return [...secret, ...plain];
      });
      expect(named.length).toBeGreaterThan(0);
      for (const variable of named) {
        // `${NAME...}` of the same name: the value is the shell's, never written in the file.
        expect({ variable, value: raw[variable] }).toEqual({
          variable,
          value: expect.stringMatching(new RegExp(`^\\$\\{${variable}(:?-[^}]*)?\\}$`)),
        });
      }
      // Dummy values in the shell reach the worker's accounts.
      const shell = Object.fromEntries(named.map((variable) => [variable, `dummy-${variable.toLowerCase()}`]));
      const config = workerConfigOf('worker', shell);
      for (const account of accounts) {
        const loaded = config.accounts.find((a) => a.account === account.account);
        expect(loaded).toEqual(expect.objectContaining({ baseUrl: account.baseUrl }));
        expect(loaded?.auth.mode).toBe(account.auth?.mode);
        expect(secretOf(loaded!.auth)).toBe(shell[credentialVariables(account.auth).secret[0]]);
      }
    });

    test('reaches Temporal at a compose service and port', () => {
      const { address } = workerConfigOf('worker').temporal;
      const [host, port] = address.split(':');
      expect(Object.keys(services)).toContain(host);
      expect(host).toBe('temporal');
      expect(portsOf(host).map((p) => p.target)).toContain(Number(port));
      // The UI and the admin job talk to the same frontend.
      expect(environmentOf('temporal-ui').TEMPORAL_ADDRESS).toBe(address);
      expect(environmentOf('temporal-admin').TEMPORAL_ADDRESS).toBe(address);
    });

    test.each([
      ['the required variables only', {}],
      [
        'POSTGRES_USER and both passwords set in the shell',
        { POSTGRES_USER: 'temporal_admin', POSTGRES_PASSWORD: 'Other-pw-42', SINK_DB_PASSWORD: 'Sink-pw-42' },
      ],
    ])("SINK_URL is the postgresql service, as the sink's own role in its own database (%s)", (_label, shell: Env) => {
      const sink = new URL(workerConfigOf('worker', shell).sinkUrl);
      const postgres = environmentOf('postgresql', shell);
      const temporal = environmentOf('temporal', shell);
      expect(sink.protocol).toBe('postgres:');
      expect(sink.hostname).toBe('postgresql');
      expect(Object.keys(services)).toContain(sink.hostname);
      expect(sink.port).toBe('5432');
      // The shell's SINK_DB_PASSWORD, the one the postgresql service gives its init script for the sink role.
      const password = decodeURIComponent(sink.password);
      expect(password).toBe({ ...REQUIRED_SHELL, ...shell }.SINK_DB_PASSWORD);
      expect(postgres.SINK_DB_PASSWORD).toBe(password);
      // Temporal's persistence: the same server, with the superuser the image creates, in databases of its own.
      expect(temporal).toEqual(
        expect.objectContaining({
          DB: 'postgres12',
          DB_PORT: sink.port,
          POSTGRES_SEEDS: sink.hostname,
          POSTGRES_USER: postgres.POSTGRES_USER,
          POSTGRES_PWD: postgres.POSTGRES_PASSWORD,
        }),
      );
      if (shell.POSTGRES_PASSWORD) expect(temporal.POSTGRES_PWD).toBe(shell.POSTGRES_PASSWORD);
      // ...which the sink's role is not, and does not own.
      const sinkUser = decodeURIComponent(sink.username);
      const sinkDatabase = decodeURIComponent(sink.pathname.replace(/^\//, ''));
      expect(sinkUser).not.toBe(temporal.POSTGRES_USER);
      expect(sinkUser).not.toBe(postgres.POSTGRES_USER);
      expect(password).not.toBe(temporal.POSTGRES_PWD);
      expect(temporalDatabases(shell)).not.toContain(sinkDatabase);
      expect(sinkDatabase).not.toBe(postgres.POSTGRES_DB ?? postgres.POSTGRES_USER);
      // The healthcheck the worker waits for asks the server over TCP.
      const healthcheck = interpolate(words(service('postgresql').healthcheck?.test).join(' '), shell);
      expect(healthcheck).toMatch(/pg_isready/);
      expect(healthcheck).toMatch(/-h 127\.0\.0\.1/);
      expect(healthcheck).toContain(`-p ${sink.port}`);
    });

    test("the postgresql init script makes the sink's role, owner of the sink's database and of nothing of Temporal's", () => {
      const { user, database } = sinkAccount();
      const mounts = mountsOf('postgresql').filter((m) => m.target.startsWith('/docker-entrypoint-initdb.d/'));
      expect(mounts).toEqual([
        { source: expect.stringMatching(/^\.\/deploy\//), target: expect.stringMatching(/\.sh$/), readOnly: true },
      ]);
      const file = path.resolve(ROOT, mounts[0].source);
      // Executed, not sourced into the image's entrypoint, when executable.
      expect(fs.statSync(file).mode & 0o111).not.toBe(0);
      const script = fs.readFileSync(file, 'utf8');
      expect(script).toMatch(/^#!\/usr\/bin\/env bash\n/);
      // The role: a login, nothing more, with SINK_DB_PASSWORD passed as a psql variable (never spliced by the shell).
      expect(script).toContain(`CREATE ROLE ${user}'`);
      expect(script).toMatch(
        new RegExp(
          `ALTER ROLE ${user} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'(\\w+)'`,
        ),
      );
      const variable = /PASSWORD :'(\w+)'/.exec(script)?.[1];
      expect(script).toContain(`--set=${variable}="$SINK_DB_PASSWORD"`);
      // Its database, closed to other roles...
      expect(script).toContain(`CREATE DATABASE ${database} OWNER ${user}'`);
      expect(script).toContain(`ALTER DATABASE ${database} OWNER TO ${user};`);
      expect(script).toContain(`REVOKE ALL ON DATABASE ${database} FROM PUBLIC;`);
      // ...and Temporal's, made by Temporal's role (POSTGRES_USER, which runs the script) and closed to the sink's.
      const names = temporalDatabases();
      expect(script).toContain(`VALUES ${names.map((n) => `('${n}')`).join(', ')}`);
      expect(script).toContain(`REVOKE ALL ON DATABASE ${names.join(', ')} FROM PUBLIC;`);
      expect(script).not.toMatch(/\bGRANT\b/);
      // It refuses to run with no password, and when Temporal's role would have the sink's name.
      expect(script).toMatch(/if \[ -z "\$\{SINK_DB_PASSWORD:-\}" \]; then[^]*?exit 1/);
      expect(script).toContain(`if [ "\${POSTGRES_USER:-postgres}" = ${user} ]; then`);
      // The server creates no database of its own (POSTGRES_DB=postgres): the script makes each one, with its owner.
      expect(environmentOf('postgresql').POSTGRES_DB).toBe('postgres');
    });

    test('publishes the metrics port it serves, on loopback, and its healthcheck asks /readyz there', () => {
      const config = workerConfigOf('worker');
      expect(config.metrics).toEqual({ host: '0.0.0.0', port: 9464 });
      const port = config.metrics?.port as number;
      expect(publishedPort('worker', port)).toEqual({ hostIp: '127.0.0.1', published: port, target: port });
      expect(words(service('worker').healthcheck?.test).join(' ')).toContain(`127.0.0.1:${port}/readyz`);
    });

    test("runs the image's default command, worker, as `npm run worker` does", () => {
      for (const name of ['worker', 'worker-extra']) {
        expect({ name, entrypoint: service(name).entrypoint, command: service(name).command }).toEqual({
          name,
          entrypoint: undefined,
          command: undefined,
        });
      }
      // The Dockerfile's CMD, `worker` (checked below), loads the module `npm run worker` runs.
      const entry = scriptEntry('worker');
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module the npm script runs
      expect(SERVICE_COMMANDS.worker.load()).toBe(require(path.join(ROOT, entry)));
    });

    test('worker-extra scales on the same configuration, with no host ports and no codec endpoint', () => {
      const extra = service('worker-extra');
      expect(extra.profiles).toEqual(['scale']);
      expect(extra.ports ?? []).toEqual([]);
      expect(environmentOf('worker-extra')).toEqual(environmentOf('worker'));
      expect(environmentOf('worker-extra').CODEC_SERVER_PORT).toBe('off');
      expect(mountsOf('worker-extra')).toEqual(mountsOf('worker'));
      expect(dependenciesOf('worker-extra')).toEqual(dependenciesOf('worker'));
      const config = workerConfigOf('worker-extra');
      expect(config.codecServerPort).toBeUndefined();
      expect(config.temporal).toEqual(workerConfigOf('worker').temporal);
    });
  });

  describe("the Web UI's codec endpoint", () => {
    test('is its own service, on a network it shares with PostgreSQL alone; no worker serves one', () => {
      // Decoded tickets for whoever can reach it: not the containers on compose's default network (the UI's server,
      // the emulator, the client, any worker), only the host's loopback, where the browser is.
      expect(networksOf('codec')).toEqual(['codec']);
      expect(Object.keys(compose.networks ?? {})).toContain('codec');
      const onItsNetwork = Object.keys(services).filter((name) => networksOf(name).includes('codec'));
      expect(onItsNetwork.sort()).toEqual(['codec', 'postgresql']);
      // PostgreSQL (the blob store of claim-checked pages) on both; nothing else bridges them.
      expect(networksOf('postgresql').sort()).toEqual(['codec', 'default']);
      for (const name of ['worker', 'worker-extra']) {
        expect({ name, port: environmentOf(name).CODEC_SERVER_PORT }).toEqual({ name, port: 'off' });
        expect(workerConfigOf(name).codecServerPort).toBeUndefined();
      }
      const port = codecConfigOf('codec').port;
      for (const name of Object.keys(services)) {
        if (name === 'codec') continue;
        expect({ name, published: portsOf(name).filter((p) => p.target === port || p.published === port) }).toEqual({
          name,
          published: [],
        });
      }
    });

    test("runs the image's codec-server command (`npm run codec-server`), once PostgreSQL answers", () => {
      const codec = service('codec');
      expect(codec.build).toBeDefined();
      expect(codec.profiles ?? []).toEqual([]);
      expect(codec.entrypoint).toBeUndefined();
      expect(serviceCommandOf('codec', 'codec-server')).toBe('codec-server');
      // Configured by its environment alone (loadCodecServerConfig below).
      expect(words(codec.command)).toEqual(['codec-server']);
      expect(dependenciesOf('codec')).toEqual({ postgresql: 'service_healthy' });
      // The blob store next to the worker's sink: the same SINK_URL, and PostgreSQL's time limits with it.
      expect(codecConfigOf('codec').sinkUrl).toBe(workerConfigOf('worker').sinkUrl);
      expect(words(codec.healthcheck?.test).join(' ')).toContain(`127.0.0.1:${codecConfigOf('codec').port}/health`);
    });

    test("is published on the host's loopback only, at the port the UI's TEMPORAL_CODEC_ENDPOINT names", () => {
      const config = codecConfigOf('codec');
      expect(config.port).toBe(8234);
      const published = portsOf('codec');
      expect(published).toEqual([{ hostIp: '127.0.0.1', published: expect.any(Number), target: config.port }]);
      // The browser calls it: a host address and the published port, not the container's.
      const endpoint = new URL(environmentOf('temporal-ui').TEMPORAL_CODEC_ENDPOINT);
      expect(['localhost', '127.0.0.1']).toContain(endpoint.hostname);
      expect(Number(endpoint.port)).toBe(published[0].published);
      // It listens on the container's interface, where the published port arrives; with no token, since the UI
      // cannot send one: the network above is what keeps other containers out.
      expect(config.host).toBe('0.0.0.0');
      expect(config.allowUnauthenticated).toBe(true);
    });

    test("answers the Web UI's origin, and no other page's", async () => {
      const uiPort = publishedPort('temporal-ui', 8080)?.published;
      expect(uiPort).toBe(8233);
      const origin = `http://localhost:${uiPort}`;
      expect(environmentOf('temporal-ui').TEMPORAL_CORS_ORIGINS).toBe(origin);
      const config = codecConfigOf('codec');
      expect(config.allowedOrigins).toEqual([origin]);
      const server = await startCodecServer({
        codecs: createDataConverter().payloadCodecs ?? [],
        port: 0,
        allowedOrigins: config.allowedOrigins,
      });
      try {
        const preflight = (from: string) =>
          fetch(`${server.url}/default/decode`, {
            method: 'OPTIONS',
            headers: { Origin: from, 'Access-Control-Request-Method': 'POST' },
          });
        const ui = await preflight(origin);
        expect(ui.status).toBe(204);
        expect(ui.headers.get('access-control-allow-origin')).toBe(origin);
        // Another page on this machine (a dev server, a local app) gets nothing.
        const other = await preflight('http://localhost:3000');
        expect(other.status).toBe(403);
        expect(other.headers.get('access-control-allow-origin')).toBeNull();
      } finally {
        await server.close();
      }
    });
  });

  test('the admin job creates exactly the search attributes of SEARCH_ATTRIBUTE_KEYS, in the worker namespace', () => {
    const CLI_TYPES: Partial<Record<SearchAttributeType, string>> = {
      [SearchAttributeType.KEYWORD]: 'Keyword',
      [SearchAttributeType.DATETIME]: 'Datetime',
      [SearchAttributeType.BOOL]: 'Bool',
    };
    const script = interpolate(words(service('temporal-admin').command).join('\n'));
    const created = [...script.matchAll(/temporal operator search-attribute create((?: --\S+ \S+)+)/g)].map((m) => {
      const args = m[1].trim().split(/\s+/);
      return {
        namespace: flagValue(args, '--namespace'),
        name: flagValue(args, '--name'),
        type: flagValue(args, '--type'),
      };
    });
    const namespace = environmentOf('worker').TEMPORAL_NAMESPACE;
    expect(namespace).toBeTruthy();
    const expected = SEARCH_ATTRIBUTE_KEYS.map((key) => ({ namespace, name: key.name, type: CLI_TYPES[key.type] }));
    const byName = (a: { name?: string }, b: { name?: string }) => (a.name ?? '').localeCompare(b.name ?? '');
    expect(created.sort(byName)).toEqual(expected.sort(byName));
    // It waits until the frontend accepts a query on each of them before the worker may start.
    const probe = /temporal workflow list[^\n]*(?:\\\n[^\n]*)*--query '([^']*)'/.exec(script);
    for (const key of SEARCH_ATTRIBUTE_KEYS) expect(probe?.[1]).toContain(key.name);
    // The namespace itself: made here, since the plain server image (unlike auto-setup) creates none.
    expect(script).toMatch(new RegExp(`temporal operator namespace create --namespace ${namespace} --retention \\S+`));
  });

  test("the schema job creates and migrates both of Temporal's databases, with the server's connection settings", () => {
    const temporal = environmentOf('temporal');
    expect(environmentOf('temporal-schema')).toEqual({
      SQL_PLUGIN: temporal.DB,
      SQL_HOST: temporal.POSTGRES_SEEDS,
      SQL_PORT: temporal.DB_PORT,
      SQL_USER: temporal.POSTGRES_USER,
      SQL_PASSWORD: temporal.POSTGRES_PWD,
    });
    expect(temporal.DB).toBe('postgres12');
    const script = interpolate(words(service('temporal-schema').command).join('\n'));
    // A failed step fails the job, and the server, which waits for its success, does not start.
    expect(words(service('temporal-schema').entrypoint)).toEqual(['/bin/bash', '-c']);
    expect(script.trim().split('\n')[0]).toBe('set -euo pipefail');
    const steps = [...script.matchAll(/^\s*temporal-sql-tool\s+(.*)$/gm)].map((m) => {
      const args = m[1].trim().split(/\s+/);
      const command = args.find((a) => ['create-database', 'setup-schema', 'update-schema'].includes(a));
      const step: Record<string, string | undefined> = { db: flagValue(args, '--db'), command };
      if (command === 'setup-schema') step.version = flagValue(args, '-v');
      if (command === 'update-schema') step.dir = flagValue(args, '-d');
      return step;
    });
    // The schema files of the postgres12 plugin, in the admin-tools image of the server's version.
    const [main, visibility] = temporalDatabases();
    const expected = [
      [main, 'temporal'],
      [visibility, 'visibility'],
    ].flatMap(([db, kind]) => [
      { db, command: 'create-database' },
      { db, command: 'setup-schema', version: '0.0' },
      { db, command: 'update-schema', dir: `/etc/temporal/schema/postgresql/v12/${kind}/versioned` },
    ]);
    expect(steps).toEqual(expected);
  });

  test('no default password: compose refuses to start without POSTGRES_PASSWORD and SINK_DB_PASSWORD', () => {
    const text = read('docker-compose.yml');
    const references = [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}/g)].map((m) => ({
      variable: m[1],
      rest: m[2],
    }));
    const passwords = references.filter((r) => /PASSWORD|PASSWD|PWD/.test(r.variable));
    expect(new Set(passwords.map((r) => r.variable))).toEqual(new Set(['POSTGRES_PASSWORD', 'SINK_DB_PASSWORD']));
    // `:?`: required, and an empty value refused too; no `:-` or `-` default anywhere.
    for (const reference of passwords) {
      expect({ ...reference, required: reference.rest.startsWith(':?') }).toEqual({ ...reference, required: true });
    }
    // Nor a bare $VARIABLE, which cannot say so ($$ is a literal dollar for the container's shell).
    expect(text.replace(/\$\$/g, '')).not.toMatch(/\$(POSTGRES_PASSWORD|SINK_DB_PASSWORD)\b/);
    // Each service that needs one fails to interpolate without it, or with it empty, naming the variable.
    const users: [string, string[]][] = [
      ['POSTGRES_PASSWORD', ['postgresql', 'temporal-schema', 'temporal']],
      ['SINK_DB_PASSWORD', ['postgresql', 'worker', 'worker-extra', 'client', 'codec']],
    ];
    for (const [variable, names] of users) {
      const { [variable]: _, ...without } = REQUIRED_SHELL;
      for (const name of names) {
        expect(() => environmentOf(name, {}, without)).toThrow(new RegExp(`^${variable}: set ${variable}\\b`));
        expect(() => environmentOf(name, { [variable]: '' })).toThrow(new RegExp(`^${variable}: `));
      }
    }
  });

  describe('the payload encryption key', () => {
    const SECRET = 'payload_encryption_key';
    const IN_CONTAINER = `/run/secrets/${SECRET}`;
    const readers = ['worker', 'worker-extra', 'client', 'codec'];

    test('is a compose secret from a git-ignored file, never an environment value', () => {
      expect(compose.secrets?.[SECRET]).toEqual({ file: expect.any(String) });
      // By default deploy/secrets/payload-encryption.key, in a directory git ignores except for its .gitignore...
      const byDefault = path.relative(ROOT, secretHostFile(SECRET, { PAYLOAD_ENCRYPTION_KEY_FILE_HOST: '' }));
      expect(byDefault).toBe('deploy/secrets/payload-encryption.key');
      const ignored = read(path.join(path.dirname(byDefault), '.gitignore'))
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line && !line.startsWith('#'));
      expect(ignored).toEqual(['*', '!.gitignore']);
      // ...made as the header of docker-compose.yml says, or anywhere PAYLOAD_ENCRYPTION_KEY_FILE_HOST names.
      expect(read('docker-compose.yml')).toContain(`openssl rand -base64 32 > ${byDefault}`);
      expect(secretHostFile(SECRET)).toBe(KEY_FILE);
      // No process gets a key, or turns encryption off, through its environment; no key is written in the file.
      for (const name of Object.keys(services)) {
        const raw = rawEnvironment(name);
        for (const key of ['PAYLOAD_ENCRYPTION_KEY', 'PAYLOAD_ENCRYPTION_OLD_KEYS', 'PAYLOAD_ENCRYPTION']) {
          expect({ name, key, value: raw[key] }).toEqual({ name, key, value: undefined });
        }
      }
      expect(read('docker-compose.yml')).not.toMatch(/[A-Za-z0-9+/]{43}=/);
    });

    test.each(readers)('%s mounts it and reads it through PAYLOAD_ENCRYPTION_KEY_FILE', (name) => {
      expect(secretsOf(name)).toEqual([{ source: SECRET, target: IN_CONTAINER }]);
      expect(environmentOf(name).PAYLOAD_ENCRYPTION_KEY_FILE).toBe(IN_CONTAINER);
    });

    test('the worker and the client load it, and the worker refuses to start without it', () => {
      const key = Buffer.from(fs.readFileSync(KEY_FILE, 'utf8').trim(), 'base64');
      const loaded = (settings: EncryptionSettings | undefined) =>
        settings?.off === false ? settings.current?.key : undefined;
      expect(loaded(workerConfigOf('worker').encryption)?.equals(key)).toBe(true);
      expect(loaded(workerConfigOf('worker-extra').encryption)?.equals(key)).toBe(true);
      expect(loaded(loadClientConfig(hostEnvironmentOf('client')).encryption)?.equals(key)).toBe(true);
      expect(loaded(codecConfigOf('codec').encryption)?.equals(key)).toBe(true);
      // Temporal is not on loopback here: without the key, or with its file missing, no worker.
      const { PAYLOAD_ENCRYPTION_KEY_FILE: _, ...withoutKey } = hostEnvironmentOf('worker');
      expect(() => loadWorkerConfig(withoutKey)).toThrow(/PAYLOAD_ENCRYPTION_KEY/);
      const missing = { PAYLOAD_ENCRYPTION_KEY_FILE_HOST: path.join(KEY_DIR, 'missing.key') };
      expect(() => workerConfigOf('worker', missing)).toThrow(/PAYLOAD_ENCRYPTION_KEY_FILE/);
    });
  });

  test('no credential is written in the compose file or the example accounts file', () => {
    const secretKey = /TOKEN|PASSWORD|PASSWD|PWD|SECRET|API_KEY|CREDENTIAL/i;
    // `${NAME}`, `${NAME:-default}` or `${NAME:?message}` (required: no default at all).
    const reference = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*)|:?\?[^}]*)?\}$/;
    const demo = readAccountsFile(EXAMPLE_ACCOUNTS).filter((a) => new URL(a.baseUrl).hostname === 'emulator');
    const demoVariables = demo.flatMap((a) => credentialVariables(a.auth).secret);
    // What the emulator accepts when the shell sets nothing: its built-in token, or the clients compose gives it.
    const emulatorSecrets = [
      DEFAULT_CREDENTIALS.apiToken,
      ...emulatorClients(environmentOf('emulator')).map((c) => c.clientSecret),
    ];
    for (const name of Object.keys(services)) {
      for (const [key, value] of Object.entries(rawEnvironment(name))) {
        if (value !== null && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
          // A URL's password comes from a variable too: with every variable set in the shell, the shell's value.
          const variables = [...value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
          const shell = Object.fromEntries(variables.map((v) => [v, `from-shell-${v.toLowerCase()}`]));
          const { password } = new URL(interpolate(value, shell));
          if (password)
            expect({ name, key, password }).toEqual({ name, key, password: expect.stringMatching(/^from-shell-/) });
        }
        if (!secretKey.test(key) || value === null) continue;
        // From the shell (a YAML alias, like the database passwords of Temporal's jobs, repeats its value), and
        // required or empty by default...
        const match = reference.exec(value);
        expect({ name, key, value, fromShell: match !== null }).toEqual({ name, key, value, fromShell: true });
        const fallback = match?.[2] ?? '';
        if (fallback === '') continue;
        // ...except what the emulator accepts (a public test fixture of the demo, not a secret).
        const demoFixture = demoVariables.includes(key) || (name === 'emulator' && key.startsWith('EMULATOR_'));
        expect({ name, key, fallback, demoFixture }).toEqual({ name, key, fallback, demoFixture: true });
        expect({ name, key, fallback, emulatorAccepts: emulatorSecrets.includes(fallback) }).toEqual({
          name,
          key,
          fallback,
          emulatorAccepts: true,
        });
      }
    }
    // The database is reachable inside the compose network only.
    expect(service('postgresql').ports ?? []).toEqual([]);
    // The emulator's token is only the demo's default: only emulator accounts name it, and only demo runs it.
    expect(service('emulator').profiles).toEqual(['demo']);
    // Nothing token-like anywhere else in the two files (ids, keys, passwords with digits and letters).
    for (const file of ['docker-compose.yml', 'deploy/accounts.example.yaml']) {
      const tokenLike = read(file).match(/\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}\b/g) ?? [];
      expect({ file, tokenLike }).toEqual({ file, tokenLike: [] });
      expect(read(file)).not.toContain(DEFAULT_CREDENTIALS.password);
    }
  });

  test('the example accounts file is valid and names its credentials by variable', () => {
    const accounts: AccountEntry[] = readAccountsFile(EXAMPLE_ACCOUNTS);
    expect(accounts.length).toBeGreaterThan(0);
    for (const account of accounts) {
      const { secret } = credentialVariables(account.auth);
      expect(secret).toEqual([expect.stringMatching(/^[A-Z][A-Z0-9_]*$/)]);
    }
    // The example shows the way in that works past 2027-04-30: OAuth client credentials.
    expect(accounts.map((a) => a.auth?.mode)).toEqual(accounts.map(() => 'oauth_client_credentials'));
  });

  describe('the emulator (profile demo)', () => {
    /** The emulator's options: its command line after the command. */
    const args = () => words(service('emulator').command).slice(1);

    test('runs only in the demo profile, from the image, its emulator command (`npm run emulator`)', () => {
      expect(service('emulator').profiles).toEqual(['demo']);
      expect(service('emulator').build).toBeDefined();
      expect(service('emulator').entrypoint).toBeUndefined();
      expect(serviceCommandOf('emulator', 'emulator')).toBe('emulator');
    });

    test("listens on all interfaces, on the port of the demo account's baseUrl", () => {
      expect(flagValue(args(), '--host')).toBe('0.0.0.0');
      const port = flagValue(args(), '--port');
      const demo = readAccountsFile(EXAMPLE_ACCOUNTS).filter((a) => new URL(a.baseUrl).hostname === 'emulator');
      expect(demo.length).toBeGreaterThan(0);
      for (const account of demo) {
        const url = new URL(account.baseUrl);
        expect(url.port || (url.protocol === 'https:' ? '443' : '80')).toBe(port);
      }
    });

    test.each([
      ['the defaults', {}],
      ['a client secret set in the shell', { DEMO_ZENDESK_OAUTH_CLIENT_SECRET: 'shell-secret' }],
    ])('accepts the credentials the worker sends to it (%s)', (_label, shell: Env) => {
      const flags = args()
        .map((arg, i, all) => (all[i - 1] === '--oauth-client' ? arg : undefined))
        .filter((v): v is string => v !== undefined);
      const clients = flags.length > 0 ? parseClients(flags) : emulatorClients(environmentOf('emulator', shell));
      expect(clients.length).toBeGreaterThan(0);
      if (shell.DEMO_ZENDESK_OAUTH_CLIENT_SECRET)
        expect(clients.map((c) => c.clientSecret)).toContain(shell.DEMO_ZENDESK_OAUTH_CLIENT_SECRET);
      const config = workerConfigOf('worker', shell);
      const demo = config.accounts.filter((a) => new URL(a.baseUrl).hostname === 'emulator');
      expect(demo.length).toBeGreaterThan(0);
      for (const account of demo) {
        expect(account.auth.mode).toBe('oauth_client_credentials');
        if (account.auth.mode !== 'oauth_client_credentials') continue;
        expect(clients).toContainEqual({ clientId: account.auth.clientId, clientSecret: account.auth.clientSecret });
      }
    });

    test('starts with the command line compose gives it, through the zendesk-export command', async () => {
      // The image's entrypoint runs the CLI's source here, with compose's command line: its own host and a free port
      // instead of compose's, every other argument as compose passes it.
      const given = words(service('emulator').command);
      const local: Record<string, string> = { '--host': '127.0.0.1', '--port': '0' };
      for (const flag of Object.keys(local)) expect(given).toContain(flag);
      const argv = given.map((arg, i) => local[given[i - 1]] ?? arg);
      const child: ChildProcess = spawn(process.execPath, ['-r', 'ts-node/register', CLI_SOURCE, ...argv], {
        cwd: ROOT,
        env: { ...process.env, ...environmentOf('emulator') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        const banner = await new Promise<string>((resolve, reject) => {
          let output = '';
          const timer = setTimeout(() => reject(new Error(`no banner within 30 s: ${output}`)), 30_000);
          const onData = (chunk: Buffer) => {
            output += chunk.toString();
            if (output.includes('Zendesk emulator:')) {
              clearTimeout(timer);
              resolve(output);
            }
          };
          child.stdout?.on('data', onData);
          child.stderr?.on('data', onData);
          child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`the emulator exited (code ${code}): ${output}`));
          });
        });
        expect(banner).toContain(`${flagValue(args(), '--tickets')} tickets`);
        expect(banner).toContain(`window ${flagValue(args(), '--window-seconds')}s`);
      } finally {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(killer);
        }
      }
    });
  });

  test("the client runs the CLI (`npm run client`) with the worker's accounts file and Temporal settings", () => {
    const client = service('client');
    expect(client.profiles).toEqual(['tools']);
    // The image's entrypoint (the Dockerfile's, checked below: the build of this source) is `npm run client`'s CLI.
    expect(scriptEntry('client')).toBe(CLI_SOURCE);
    expect(client.entrypoint).toBeUndefined();
    // By default an operator command, which `docker compose run --rm client <command>` replaces.
    const argv = words(client.command);
    expect(isServiceCommand(argv[0])).toBe(false);
    expect(cliInvocation(argv)).toEqual({ command: 'status', options: { all: true } });
    const env = environmentOf('client');
    const worker = environmentOf('worker');
    for (const key of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_TASK_QUEUE', 'ZENDESK_ACCOUNTS_FILE']) {
      expect({ key, value: env[key] }).toEqual({ key, value: worker[key] });
    }
    expect(mountsOf('client')).toEqual(mountsOf('worker'));
  });
});

describe('Dockerfile', () => {
  const stages = dockerfileStages();
  const runtime = stages[stages.length - 1];
  const build = stages[0];
  /** Node's active LTS line, which the image runs (package.json `engines` allows older ones for a local checkout). */
  const ACTIVE_LTS = 26;

  test('builds on Node 26 or later (the Active LTS) with npm ci and npm run build, and prunes dev dependencies', () => {
    const bases = stages.map((stage) => stage[0].args.split(/\s+/)[0]);
    const floor = Number(/^>=\s*(\d+)(\.\d+)*$/.exec(packageJson().engines.node)?.[1]);
    expect(floor).toBeGreaterThan(0);
    for (const base of bases) {
      // A Debian slim variant, pinned to a minor version at least.
      expect(base).toMatch(/^node:\d+\.\d+(\.\d+)?-[a-z]+-slim$/);
      const major = Number(/^node:(\d+)/.exec(base)?.[1]);
      expect({ base, major }).toEqual({ base, major: expect.any(Number) });
      expect(major).toBeGreaterThanOrEqual(ACTIVE_LTS);
      // ...and one the package supports.
      expect(major).toBeGreaterThanOrEqual(floor);
    }
    // Build and runtime on the same Node: the native better-sqlite3 module is built for one ABI.
    expect(new Set(bases).size).toBe(1);
    const runs = argsOf(build, 'RUN');
    const step = (pattern: RegExp) => runs.findIndex((run) => pattern.test(run));
    // In this order: the dependencies, the build (which needs the dev dependencies: tsc, webpack), the pruning.
    const steps = [/\bnpm ci\b/, /\bnpm run build\b/, /\bnpm prune --omit=dev\b/].map(step);
    expect(steps.every((i) => i >= 0)).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    // The build copies what the build reads: its tsconfig (and the ones it extends) and src/, before it runs.
    const buildAt = build.findIndex((i) => i.keyword === 'RUN' && /\bnpm run build\b/.test(i.args));
    const copied = build
      .slice(0, buildAt)
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(copied).toEqual(expect.arrayContaining([...buildConfigFiles(), 'src', 'package.json', 'package-lock.json']));
    // better-sqlite3's fallback build from source needs them.
    for (const tool of ['python3', 'make', 'g++'])
      expect(runs.join('\n')).toMatch(new RegExp(`apt-get install[^\\n]*\\s${tool.replace('+', '\\+')}(\\s|$)`));
  });

  test('npm run build compiles with tsconfig.build.json, then writes the workflow bundle into its outDir', () => {
    const steps = buildSteps();
    const compile = steps.indexOf(`tsc -p ${BUILD_CONFIG}`);
    expect({ steps, compile: compile >= 0 }).toEqual({ steps, compile: true });
    // The bundle step runs the compiled src/temporal/workflow-bundle.ts, after tsc has written it...
    const bundle = steps.indexOf(`node ${compiledPathOf('src/temporal/workflow-bundle.ts')}`);
    expect({ steps, bundle: bundle > compile }).toEqual({ steps, bundle: true });
    // ...which writes PREBUILT_BUNDLE_PATH, the bundle the worker loads when present (src/worker.ts)...
    expect(read('src/temporal/workflow-bundle.ts')).toMatch(/writeFileSync\(PREBUILT_BUNDLE_PATH\b/);
    expect(read('src/worker.ts')).toMatch(/existsSync\(PREBUILT_BUNDLE_PATH\)/);
    // ...which, from the compiled module, is lib/workflow-bundle.js: in the build's outDir, not under src/.
    const bundlePath = compiledPathOf(path.relative(ROOT, PREBUILT_BUNDLE_PATH));
    const outDir = compiledPathOf(CLI_SOURCE).split('/')[0];
    expect(bundlePath).toBe(`${outDir}/workflow-bundle.js`);
  });

  test('runs the zendesk-export command (package.json bin), worker by default, as a non-root user', () => {
    // Exec form (JSON arrays): no shell in between, so node itself gets SIGTERM on `docker stop`.
    const entrypoint = JSON.parse(argsOf(runtime, 'ENTRYPOINT').pop() ?? '[]') as string[];
    const cmd = JSON.parse(argsOf(runtime, 'CMD').pop() ?? '[]') as string[];
    expect(entrypoint).toEqual(['node', compiledPathOf(CLI_SOURCE)]);
    expect(packageJson().bin).toEqual({ 'zendesk-export': compiledPathOf(CLI_SOURCE) });
    // `docker run IMAGE`: the worker; `docker run IMAGE status --all`: that command instead.
    expect(cmd).toEqual(['worker']);
    expect(isServiceCommand(cmd[0])).toBe(true);
    const workdir = argsOf(runtime, 'WORKDIR').pop();
    const outDir = compiledPathOf(CLI_SOURCE).split('/')[0];
    // The runtime stage has the compiled code and the production node_modules from the build stage.
    const copies = argsOf(runtime, 'COPY').join('\n');
    expect(copies).toMatch(new RegExp(`--from=\\S+ ${workdir}/${outDir} `));
    expect(copies).toMatch(new RegExp(`--from=\\S+ ${workdir}/node_modules `));
    const user = argsOf(runtime, 'USER').pop();
    expect(user).toBeDefined();
    expect(['root', '0', '0:0', 'root:root']).not.toContain(user);
    const keywords = runtime.map((i) => i.keyword);
    expect(keywords.lastIndexOf('USER')).toBeLessThan(keywords.lastIndexOf('ENTRYPOINT'));
  });

  test('has the workflow bundle `npm run build` writes, which the worker finds without WORKFLOW_BUNDLE_PATH', () => {
    // Both stages in one directory: the build's lib/ (with lib/workflow-bundle.js) is the runtime's lib/ as a whole.
    const workdir = argsOf(build, 'WORKDIR').pop() as string;
    expect(argsOf(runtime, 'WORKDIR').pop()).toBe(workdir);
    const bundlePath = compiledPathOf(path.relative(ROOT, PREBUILT_BUNDLE_PATH));
    const outDir = bundlePath.split('/')[0];
    const copied = argsOf(runtime, 'COPY')
      .map((args) => /^--from=\S+\s+(\S+)\s+(\S+)$/.exec(args))
      .filter((m): m is RegExpExecArray => m !== null)
      .map(([, from, to]) => ({ from, to: path.posix.resolve(workdir, to) }));
    expect(copied).toContainEqual({ from: `${workdir}/${outDir}`, to: `${workdir}/${outDir}` });
    // Nothing points the worker elsewhere: a WORKFLOW_BUNDLE_PATH would take precedence over the prebuilt bundle.
    for (const stage of stages) expect(envInstructions(stage).WORKFLOW_BUNDLE_PATH).toBeUndefined();
    expect(read('Dockerfile')).not.toMatch(/lib\/src\//);
  });

  test('exposes exactly the container ports of the worker and the codec endpoint, both run from this image', () => {
    const exposed = argsOf(runtime, 'EXPOSE')
      .flatMap((a) => a.split(/\s+/))
      .map((p) => Number(p.replace(/\/tcp$/, '')));
    const published = ['worker', 'codec'].flatMap((name) => portsOf(name).map((p) => p.target));
    const numeric = (ports: number[]) => [...ports].sort((a, b) => a - b);
    expect(numeric(exposed)).toEqual(numeric(published));
    expect(numeric(exposed)).toEqual(
      numeric([codecConfigOf('codec').port, Number(environmentOf('worker').METRICS_PORT)]),
    );
  });

  test('.dockerignore keeps local state out and lets in what the build copies', () => {
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['node_modules', '.git', '.data', '.tools', 'lib', 'test/artifacts', 'bench/results']) {
      expect(ignored).toContain(entry);
    }
    const sources = argsOf(build, 'COPY')
      .filter((args) => !args.startsWith('--from'))
      .flatMap((args) => args.split(/\s+/).slice(0, -1));
    expect(sources).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', ...buildConfigFiles(), 'src']),
    );
    for (const source of sources) {
      const hit = ignored.filter((pattern) => source === pattern || source.startsWith(`${pattern}/`));
      expect({ source, ignoredBy: hit }).toEqual({ source, ignoredBy: [] });
    }
  });
});

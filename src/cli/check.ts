import { apiTokenWarning, defaultExportApi, loadWorkerConfig, ZendeskSettings } from '../config';
import type { ExportApi } from '../shared';
import { describeAuth } from '../zendesk/auth';
import { AROUND_TICKET_STREAMS } from '../streams/names';
import { ZendeskClient } from '../zendesk/client';
import { ZendeskPermanentError, ZendeskTransientError } from '../zendesk/errors';
import { selectAccounts } from './accounts';
import type { AccountOptions } from './commands';
import { CliIo, EXIT_FAILED, EXIT_OK } from './io';

/** `check`: signs in to each account's Zendesk as the worker would, and asks which export endpoints answer. */
export async function check(options: AccountOptions, io: CliIo): Promise<number> {
  const config = loadWorkerConfig(io.env);
  const accounts = selectAccounts(config.accounts, options);
  let exitCode = EXIT_OK;
  for (const settings of accounts) {
    if (accounts.length > 1) io.out(`${settings.account}:`);
    exitCode = Math.max(exitCode, await checkAccount(settings, io));
  }
  return exitCode;
}

async function checkAccount(settings: ZendeskSettings, io: CliIo): Promise<number> {
  const zendesk = new ZendeskClient(settings);
  const line = (label: string, text: string) => io.out(`  ${label.padEnd(12)} ${text}`);
  line('auth', describeAuth(settings.auth));
  if (settings.auth.mode === 'api_token') line('warning', apiTokenWarning(settings.account));
  if (settings.auth.mode === 'oauth_client_credentials') {
    // A token now: a wrong client, secret or scope shows here, before any export call.
    try {
      line('token', await zendesk.describeAuthentication());
    } catch (err) {
      if (!(err instanceof ZendeskPermanentError || err instanceof ZendeskTransientError)) throw err;
      io.err(`check failed: no OAuth token: ${err.message}`);
      return EXIT_FAILED;
    }
  }
  const startTime = Math.floor(Date.now() / 1000) - 86400;
  const probes: [ExportApi | 'sample', () => Promise<{ kind: string; rows?: unknown[] }>][] = [
    ['sample', () => zendesk.fetchExportPage(startTime, 'sample')],
    ['cursor', () => zendesk.fetchCursorPage({ startTime, perPage: 1 })],
    ['incremental', () => zendesk.fetchTimeBasedPage({ startTime, perPage: 1 })],
  ];
  const answers: string[] = [];
  for (const [name, probe] of probes) {
    try {
      const outcome = await probe();
      answers.push(name);
      line(
        name,
        outcome.kind === 'page'
          ? `answered with ${outcome.rows?.length ?? 0} rows in the expected format`
          : `answered (${outcome.kind.replace('_', ' ')})`,
      );
    } catch (err) {
      if (err instanceof ZendeskPermanentError && (err.status === 401 || err.status === 403)) {
        io.err(`check failed: ${err.message}`);
        return EXIT_FAILED;
      }
      if (!(err instanceof ZendeskPermanentError || err instanceof ZendeskTransientError)) throw err;
      line(name, `not available: ${err.message}`);
    }
  }
  if (answers.length === 0) {
    io.err(`check failed: ${zendesk.origin} answered none of the export endpoints`);
    return EXIT_FAILED;
  }
  // The streams around the ticket: each endpoint once. One that is not available (a plan or a role without it) is
  // reported; leave it out of EXPORT_STREAMS, or the export blocks that stream until resumed.
  for (const stream of AROUND_TICKET_STREAMS) {
    try {
      const outcome = await zendesk.fetchStreamPage({ stream, startTime, perPage: 1 });
      line(
        stream,
        outcome.kind === 'page'
          ? `answered with ${outcome.rows.length} rows in the expected format`
          : `answered (${outcome.kind.replace('_', ' ')})`,
      );
    } catch (err) {
      if (!(err instanceof ZendeskPermanentError || err instanceof ZendeskTransientError)) throw err;
      line(stream, `not available: ${err.message}`);
    }
  }
  const recommended = ['cursor', 'incremental'].find((api) => answers.includes(api)) ?? 'exports';
  // What `start` reads when nothing chooses: cursor at <subdomain>.zendesk.com, exports anywhere else.
  const unset = defaultExportApi(settings.baseUrl);
  const note =
    recommended === unset ? `the default for ${zendesk.origin}` : `when unset, ${zendesk.origin} reads ${unset}`;
  io.out(`OK: ${zendesk.origin} accepted the credentials. Recommended: ZENDESK_EXPORT_API=${recommended} (${note})`);
  return EXIT_OK;
}

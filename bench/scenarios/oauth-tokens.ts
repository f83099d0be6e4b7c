import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DEFAULT_OAUTH_CLIENT, startEmulator } from '../../src/emulator';
import { openSink } from '../../src/storage/open';
import { compareSinkWithTruth } from '../support/processes';
import { BenchEnv, startBenchWorker, startExport, stopExport, waitUntil } from '../support/pipeline';

export interface OAuthTokensOptions {
  /** How long the export runs with live changes. */
  seconds: number;
  /** The emulator's token lifetime: many renewals in a short run. */
  tokenSeconds: number;
  tickets: number;
}

/**
 * A worker process signed in with OAuth client credentials, exporting with live changes across many token
 * lifetimes: tickets missing at the end, token grants, and calls Zendesk refused for an expired token.
 */
export async function measureOAuthTokens(env: BenchEnv, { seconds, tokenSeconds, tickets }: OAuthTokensOptions) {
  const emulator = await startEmulator({
    ticketCount: tickets,
    windowSeconds: 0,
    incrementalRequestsPerMinute: 0,
    incrementalMinStartAgeSeconds: 1,
    oauthClients: [DEFAULT_OAUTH_CLIENT],
    oauthTokenTtlSeconds: tokenSeconds,
  });
  const sinkUrl = `sqlite:${path.join(env.dir, `oauth-${randomUUID()}.db`)}`;
  const sink = await openSink(sinkUrl);
  const worker = await startBenchWorker(env, {
    baseUrl: emulator.url,
    sinkUrl,
    extraEnv: {
      ZENDESK_EMAIL: '',
      ZENDESK_API_TOKEN: '',
      ZENDESK_OAUTH_CLIENT_ID: DEFAULT_OAUTH_CLIENT.clientId,
      ZENDESK_OAUTH_CLIENT_SECRET: DEFAULT_OAUTH_CLIENT.clientSecret,
    },
  });
  const account = new URL(emulator.url).host;
  try {
    const { workflowId, startedAt } = await startExport(env, worker, {
      account,
      api: 'cursor',
      startTime: 0,
      perPage: 200,
      requestsPerMinute: 120,
      pollIntervalSeconds: 1,
      minStartAgeSeconds: 1,
    });
    emulator.startMutations({ intervalMs: 500, perTick: 1 });
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    emulator.stopMutations();
    let missing = '';
    await waitUntil(
      'the sink to equal the truth',
      async () => (missing = await compareSinkWithTruth(sink, account, 'cursor', emulator, 'sqlite')) === '',
      60_000,
      () => `${missing}\n${worker.output()}`,
      250,
    );
    const stats = emulator.stats();
    await stopExport(env, workflowId);
    return {
      result: {
        seconds: Math.round((Date.now() - startedAt) / 1000),
        tokenSeconds,
        tickets: emulator.truthFull().length,
        calls: stats.calls,
        tokenGrants: stats.tokenGrants,
        tokenErrors: stats.tokenErrors,
        expiredTokenCalls: stats.expiredTokenCalls,
        unauthenticatedCalls: stats.unauthenticatedCalls,
        missing: 0,
      },
    };
  } finally {
    await worker.stop();
    await sink.close();
    await emulator.close();
  }
}

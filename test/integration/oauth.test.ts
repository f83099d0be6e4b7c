import { DEFAULT_OAUTH_CLIENT, Emulator, EmulatorOptions, startEmulator } from '../../src/emulator';
import { ZendeskAuth } from '../../src/zendesk/auth';
import { ZendeskClient } from '../../src/zendesk/client';
import { ZendeskPermanentError, ZendeskTransientError } from '../../src/zendesk/errors';
import { renewalMarginMs } from '../../src/zendesk/oauth';
import { Harness, sleepMs, startHarness, waitFor } from '../helpers/harness';
import { leaksOf } from '../helpers/secret-forms';

/*
 * The token cache of the OAuth client credentials grant, against the emulator's /oauth/tokens over real HTTP:
 * renewal before expiry, one request for many callers, after a 401 a new token for the next try (a second 401 with it
 * is permanent), the token endpoint's own answers classified.
 */

const CLIENT: ZendeskAuth = {
  mode: 'oauth_client_credentials',
  clientId: DEFAULT_OAUTH_CLIENT.clientId,
  clientSecret: DEFAULT_OAUTH_CLIENT.clientSecret,
  scope: 'read',
  tokenTtlSeconds: 3600,
};

/** A client whose secret changes in every encoding: quoted back, each form of it must be blanked. */
const QUOTED = { clientId: 'zte-quoted-client', clientSecret: 'cs"Qx\\7/+v=K z!(9)*~\u00e9-Lp2#' };
const QUOTED_AUTH: ZendeskAuth = { ...CLIENT, ...QUOTED };

let emulator: Emulator | undefined;

async function oauthEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  emulator = await startEmulator({
    ticketCount: 50,
    windowSeconds: 0,
    minStartAgeSeconds: 1,
    incrementalRequestsPerMinute: 0,
    oauthClients: [DEFAULT_OAUTH_CLIENT],
    ...options,
  });
  return emulator;
}

function clientFor(e: Emulator, auth: ZendeskAuth = CLIENT, timeoutMs = 3000): ZendeskClient {
  return new ZendeskClient({ baseUrl: e.url, auth, timeoutMs });
}

async function failureOf(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

describe('OAuth client credentials: the token cache', () => {
  test('one token for many calls; renewed before it expires, so no call carries an expired token', async () => {
    const e = await oauthEmulator({ oauthTokenTtlSeconds: 2 });
    const zendesk = clientFor(e);
    // 2 s tokens are renewed 0.4 s before they expire; a call every 150 ms for 5 s spans three lifetimes and more.
    const until = Date.now() + 5000;
    let calls = 0;
    while (Date.now() < until) {
      expect((await zendesk.fetchCursorPage({ startTime: 0 })).kind).toBe('page');
      calls++;
      await sleepMs(150);
    }
    const stats = e.stats();
    expect(stats.expiredTokenCalls).toBe(0);
    expect(stats.unauthenticatedCalls).toBe(0);
    expect(stats.tokenGrants).toBeGreaterThanOrEqual(3);
    expect(stats.tokenGrants).toBeLessThanOrEqual(4);
    expect(calls).toBeGreaterThan(stats.tokenGrants * 5);
  });

  test('concurrent calls with no token yet share one token request', async () => {
    const e = await oauthEmulator();
    const zendesk = clientFor(e);
    const pages = await Promise.all(Array.from({ length: 8 }, () => zendesk.fetchExportPage(0)));
    expect(pages.every((p) => p.kind === 'page')).toBe(true);
    expect(e.stats().tokenGrants).toBe(1);
  });

  test('a 401 (token revoked): transient, no second call at once; the next call has a new token', async () => {
    const e = await oauthEmulator();
    const zendesk = clientFor(e);
    await zendesk.fetchExportPage(0);
    e.revokeTokens();
    // The call is not sent again within the attempt: the activity's retry, paced, sends it with a new token.
    const refused = await failureOf(() => zendesk.fetchExportPage(0));
    expect(refused).toBeInstanceOf(ZendeskTransientError);
    expect(refused).toMatchObject({ status: 401 });
    expect(refused.message).toMatch(/: 401 Unauthorized: Zendesk refused the token of OAuth client zte-demo-client/);
    expect(e.stats()).toMatchObject({ calls: 2, tokenGrants: 1, unauthenticatedCalls: 1 });
    expect((await zendesk.fetchExportPage(0)).kind).toBe('page');
    expect(e.stats()).toMatchObject({ calls: 3, tokenGrants: 2, unauthenticatedCalls: 1 });
  });

  test('a second 401 with the token obtained for the retry: permanent (the export blocks), no third try', async () => {
    const e = await oauthEmulator();
    const zendesk = clientFor(e);
    e.injectFaults([{ kind: 'status', status: 401, count: 2 }]);
    expect(await failureOf(() => zendesk.fetchExportPage(0))).toBeInstanceOf(ZendeskTransientError);
    expect(e.stats()).toMatchObject({ calls: 1, tokenGrants: 1 });
    const failure = await failureOf(() => zendesk.fetchExportPage(0));
    expect(failure).toBeInstanceOf(ZendeskPermanentError);
    expect(failure.message).toMatch(/401 with a token just issued to OAuth client zte-demo-client/);
    expect(failure.message).toMatch(/check the client's scope \(read\) and that it is active/);
    expect(e.stats()).toMatchObject({ calls: 2, tokenGrants: 2 });
  });

  test('a token that Zendesk accepted and later refuses is renewed again: each revocation costs one try', async () => {
    const e = await oauthEmulator();
    const zendesk = clientFor(e);
    for (let round = 1; round <= 3; round++) {
      expect((await zendesk.fetchCursorPage({ startTime: 0 })).kind).toBe('page');
      e.revokeTokens();
      expect(await failureOf(() => zendesk.fetchCursorPage({ startTime: 0 }))).toBeInstanceOf(ZendeskTransientError);
    }
    expect((await zendesk.fetchCursorPage({ startTime: 0 })).kind).toBe('page');
    expect(e.stats()).toMatchObject({ calls: 7, tokenGrants: 4, unauthenticatedCalls: 3 });
  });

  test('invalid_client: permanent, naming the client id, never the secret', async () => {
    const e = await oauthEmulator();
    const zendesk = clientFor(e, { ...CLIENT, clientSecret: 'a-wrong-secret-that-must-not-show' } as ZendeskAuth);
    const failure = await failureOf(() => zendesk.fetchExportPage(0));
    expect(failure).toBeInstanceOf(ZendeskPermanentError);
    expect(failure.message).toMatch(/OAuth client zte-demo-client\): 401 \(invalid_client/);
    expect(failure.message).toMatch(/ZENDESK_OAUTH_CLIENT_SECRET/);
    expect(failure.message).not.toContain('a-wrong-secret-that-must-not-show');
    expect(e.stats().calls).toBe(0);
  });

  test.each([
    [400, ZendeskPermanentError],
    [401, ZendeskPermanentError],
    [500, ZendeskTransientError],
  ])(
    'a %i that quotes the token request back (a proxy, a firewall): the error shows no form of the secret',
    async (status, kind) => {
      const e = await oauthEmulator({ oauthClients: [QUOTED] });
      e.injectTokenFaults([{ kind: 'echo', status }]);
      const failure = await failureOf(() => clientFor(e, QUOTED_AUTH).fetchExportPage(0));
      expect(failure).toBeInstanceOf(kind);
      // The quote is there, with the secret blanked: the client id shows, the secret in no form.
      expect(failure.message).toMatch(
        new RegExp(`OAuth client zte-quoted-client\\): ${status} \\(request_rejected: Blocked: POST /oauth/tokens \\{`),
      );
      expect(failure.message).toContain('"client_secret":"[redacted]"');
      expect(leaksOf(QUOTED.clientSecret, failure.message)).toEqual([]);
      expect(e.stats().tokenLog).toEqual([{ at: expect.any(Number), status, fault: 'echo' }]);
    },
  );

  test('a refusal that quotes the secret URL-, form- or JSON-encoded, in base64 or hex: blanked in every form', async () => {
    const e = await oauthEmulator({ oauthClients: [QUOTED] });
    const secret = QUOTED.clientSecret;
    const base64 = [0, 1, 2].flatMap((k) => {
      const bytes = Buffer.from(`${'x'.repeat(k)}${secret}"}`);
      return [bytes.toString('base64'), bytes.toString('base64url')];
    });
    const quotes = [
      secret,
      JSON.stringify(secret),
      encodeURIComponent(secret),
      encodeURIComponent(secret).toLowerCase(),
      new URLSearchParams({ client_secret: secret }).toString(),
      Buffer.from(secret).toString('hex'),
      Buffer.from(secret).toString('hex').toUpperCase(),
      ...base64,
    ];
    const zendesk = clientFor(e, QUOTED_AUTH);
    for (const quote of quotes) {
      for (const field of ['error', 'error_description']) {
        const body = JSON.stringify({ error: 'invalid_request', [field]: `the request said ${quote}` });
        e.injectTokenFaults([{ kind: 'status', status: 400, body }]);
        const failure = await failureOf(() => zendesk.fetchExportPage(0));
        expect(failure).toBeInstanceOf(ZendeskPermanentError);
        expect({ quote, field, message: failure.message }).toEqual({
          quote,
          field,
          message: expect.stringContaining('the request said '),
        });
        expect({ quote, field, leaks: leaksOf(secret, failure.message) }).toEqual({ quote, field, leaks: [] });
      }
    }
    expect(e.stats().tokenLog).toHaveLength(quotes.length * 2);
  });

  test('the token endpoint answers 429: transient with its Retry-After, and not asked again before it', async () => {
    const e = await oauthEmulator();
    e.injectTokenFaults([{ kind: 'rateLimit', retryAfter: '2' }]);
    const zendesk = clientFor(e);
    const limited = await failureOf(() => zendesk.fetchExportPage(0));
    expect(limited).toBeInstanceOf(ZendeskTransientError);
    expect((limited as ZendeskTransientError).retryAfterSeconds).toBe(2);
    // At once again: no second request to the token endpoint inside the Retry-After.
    const again = await failureOf(() => zendesk.fetchExportPage(0));
    expect(again.message).toMatch(/not asked again for [12] s/);
    expect(e.stats().tokenLog.length).toBe(1);
    await sleepMs(2100);
    expect((await zendesk.fetchExportPage(0)).kind).toBe('page');
    expect(e.stats().tokenLog.map((entry) => entry.status)).toEqual([429, 200]);
  });

  test.each([
    ['500', { kind: 'status', status: 500 } as const, /: 500/],
    ['a timeout', { kind: 'slow', delayMs: 1500 } as const, /no answer within 500 ms \(timeout\)/],
    ['a connection reset', { kind: 'reset' } as const, /network error/],
  ])('the token endpoint fails with %s: transient, retried after a gap', async (_name, fault, message) => {
    const e = await oauthEmulator();
    e.injectTokenFaults([fault]);
    const zendesk = clientFor(e, CLIENT, 500);
    const failure = await failureOf(() => zendesk.fetchExportPage(0));
    expect(failure).toBeInstanceOf(ZendeskTransientError);
    expect(failure.message).toMatch(message);
    expect(e.stats().calls).toBe(0);
  });

  test('a pre-issued access token that Zendesk refuses: permanent, saying what to do', async () => {
    const e = await oauthEmulator();
    const zendesk = clientFor(e, { mode: 'oauth_access_token', accessToken: 'an-expired-pre-issued-token' });
    const failure = await failureOf(() => zendesk.fetchExportPage(0));
    expect(failure).toBeInstanceOf(ZendeskPermanentError);
    expect(failure.message).toMatch(/ZENDESK_OAUTH_ACCESS_TOKEN\) has expired or was revoked/);
    expect(failure.message).not.toContain('an-expired-pre-issued-token');
    expect(e.stats().tokenGrants).toBe(0);
  });

  test('describeAuthentication obtains a token and shows its scope and lifetime', async () => {
    const e = await oauthEmulator({ oauthTokenTtlSeconds: 1800 });
    expect(await clientFor(e).describeAuthentication()).toBe(
      'OAuth client zte-demo-client: token obtained, scope "read", lives 1800 s, renewed 60 s before it expires',
    );
  });
});

describe('renewalMarginMs', () => {
  test('20% of the lifetime, at most a minute', () => {
    expect(renewalMarginMs(15_000)).toBe(3000);
    expect(renewalMarginMs(300_000)).toBe(60_000);
    expect(renewalMarginMs(3_600_000)).toBe(60_000);
  });
});

describe('an export in OAuth mode, through the workflow', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('a 401 (token revoked): the call is sent again with a new token no sooner than the pacing gap', async () => {
    h = await startHarness({
      emulator: {
        ticketCount: 300,
        windowSeconds: 0,
        incrementalRequestsPerMinute: 0,
        incrementalMinStartAgeSeconds: 1,
        oauthClients: [DEFAULT_OAUTH_CLIENT],
      },
      // 20 calls a minute: one every 3 s.
      input: { api: 'cursor', perPage: 100, requestsPerMinute: 20, minStartAgeSeconds: 1 },
      auth: CLIENT,
    });
    const harness = h;
    await waitFor('the first page', () => harness.emulator.stats().log.length >= 1, 30_000, 20);
    harness.emulator.revokeTokens();
    await harness.waitForTruth(60_000);
    const { log, tokenGrants, unauthenticatedCalls } = harness.emulator.stats();
    expect(log.slice(0, 3).map((entry) => entry.status)).toEqual([200, 401, 200]);
    const [first, refused, retried] = log;
    // The pacing clock starts when the activity asks for the call, a few ms before the refused call is answered.
    expect(refused.at - first.at).toBeGreaterThanOrEqual(2900);
    expect(retried.at - refused.at).toBeGreaterThanOrEqual(2900);
    expect(retried.cursor).toBe(refused.cursor);
    expect({ tokenGrants, unauthenticatedCalls }).toEqual({ tokenGrants: 2, unauthenticatedCalls: 1 });
    const status = await harness.status();
    expect({ blocked: status.blocked, lastError: status.lastError }).toEqual({ blocked: false, lastError: null });
  });

  test('across five token lifetimes: sink = truth, at most one refused call per expired token', async () => {
    h = await startHarness({
      emulator: {
        ticketCount: 2000,
        windowSeconds: 0,
        incrementalRequestsPerMinute: 0,
        incrementalMinStartAgeSeconds: 1,
        oauthClients: [DEFAULT_OAUTH_CLIENT],
        oauthTokenTtlSeconds: 2,
        mutations: { intervalMs: 200, perTick: 2 },
      },
      input: { api: 'cursor', perPage: 100, requestsPerMinute: 600, pollIntervalSeconds: 0.3, minStartAgeSeconds: 1 },
      auth: CLIENT,
    });
    const harness = h;
    await waitFor('five token lifetimes of calls', () => harness.emulator.stats().tokenGrants >= 5, 60_000);
    harness.emulator.stopMutations();
    await harness.waitForTruth(60_000);
    const stats = harness.emulator.stats();
    expect(stats.unauthenticatedCalls).toBeLessThanOrEqual(stats.tokenGrants);
    expect(stats.expiredTokenCalls).toBeLessThanOrEqual(stats.tokenGrants);
    const status = await harness.status();
    expect(status.lastError).toBeNull();
    expect(status.auth).toEqual({
      mode: 'oauth_client_credentials',
      tokenExpiresAt: expect.any(Number),
      tokenRenewsAt: expect.any(Number),
    });
    expect(status.auth!.tokenExpiresAt! - status.auth!.tokenRenewsAt!).toBe(400);
  });
});

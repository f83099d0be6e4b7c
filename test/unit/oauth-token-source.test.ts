import axios from 'axios';
import { DEFAULT_OAUTH_CLIENT, EXPORT_PATH, startEmulator, type Emulator } from '../../src/emulator';
import { ZendeskPermanentError, ZendeskTransientError } from '../../src/zendesk/errors';
import { OAuthTokenSource } from '../../src/zendesk/oauth';
import { Redactor } from '../../src/zendesk/redactor';

/*
 * The token cache against the emulator's real token endpoint, on one clock that the test moves: the worker's (the
 * token source's) and Zendesk's (the emulator's) agree, so a token's life is exact to the millisecond.
 */

const TOKEN_SECONDS = 100; // renewed 20 s before it expires (20%), at 80 s
let nowMs = Date.now();
const now = () => nowMs;
const started: Emulator[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.close()));
});

async function setUp(): Promise<{ e: Emulator; source: OAuthTokenSource; startedAt: number }> {
  nowMs = Date.now();
  const e = await startEmulator({
    ticketCount: 10,
    windowSeconds: 0,
    oauthClients: [DEFAULT_OAUTH_CLIENT],
    oauthTokenTtlSeconds: TOKEN_SECONDS,
    now,
  });
  started.push(e);
  const source = new OAuthTokenSource({
    origin: e.url,
    credentials: { ...DEFAULT_OAUTH_CLIENT, scope: 'read', tokenTtlSeconds: 3600 },
    http: axios.create({
      baseURL: e.url,
      proxy: false,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
    }),
    timeoutMs: 3000,
    redactor: new Redactor(),
    now,
  });
  return { e, source, startedAt: nowMs };
}

/** Zendesk's answer to a call with this token, on the shared clock. */
async function callWith(e: Emulator, token: string): Promise<number> {
  const res = await fetch(`${e.url}${EXPORT_PATH}?start_time=0`, { headers: { authorization: `Bearer ${token}` } });
  await res.text();
  return res.status;
}

async function failureOf(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('a renewal that fails', () => {
  test('while the token is still valid: the current token serves, the endpoint is not asked again within the gap', async () => {
    const { e, source, startedAt } = await setUp();
    const first = await source.token();
    expect(first.expiresAt - first.obtainedAt).toBe(TOKEN_SECONDS * 1000);

    // Past the renewal margin, 15 s of life left: the renewal meets a 503.
    nowMs = startedAt + 85_000;
    e.injectTokenFaults([{ kind: 'status', status: 503 }]);
    expect((await source.token()).value).toBe(first.value);
    expect(await callWith(e, first.value)).toBe(200);
    // The failure is kept for the worker's log, once.
    expect(source.takeRenewalFailure()).toMatch(/oauth\/tokens \(OAuth client zte-demo-client\): 503/);
    expect(source.takeRenewalFailure()).toBeUndefined();
    // 2 s later, inside the 5 s gap after the failure: the same token, no request, nothing new to report.
    nowMs = startedAt + 87_000;
    expect((await source.token()).value).toBe(first.value);
    expect(source.takeRenewalFailure()).toBeUndefined();
    expect(e.stats().tokenLog.map((entry) => entry.status)).toEqual([200, 503]);

    // After the gap: asked again, renewed.
    nowMs = startedAt + 90_500;
    const renewed = await source.token();
    expect(renewed.value).not.toBe(first.value);
    expect(renewed.obtainedAt).toBe(nowMs);
    expect(e.stats().tokenLog.map((entry) => entry.status)).toEqual([200, 503, 200]);
    expect(await callWith(e, renewed.value)).toBe(200);
    // Counted for zendesk_export_token_renewals_total: the three requests sent (not the deferred one), once.
    expect(source.takeRenewals()).toEqual({ ok: 2, failed: 1 });
    expect(source.takeRenewals()).toEqual({ ok: 0, failed: 0 });
  });

  test('too close to the expiry (or past it), permanently, or for a refused token: the call fails', async () => {
    const { e, source, startedAt } = await setUp();
    await source.token();
    // 3 s of life left: within the safety margin (5% of the life, at most 10 s), a call could arrive too late.
    nowMs = startedAt + 97_000;
    e.injectTokenFaults([{ kind: 'status', status: 503 }]);
    const late = await failureOf(() => source.token());
    expect(late).toBeInstanceOf(ZendeskTransientError);
    expect(late.message).toMatch(/: 503/);
    expect(source.takeRenewalFailure()).toBeUndefined(); // the call's failure, not a covered one

    // A client Zendesk refuses for good: the export blocks now, though the token would serve 14 s more.
    const { e: e2, source: second, startedAt: startedAt2 } = await setUp();
    await second.token();
    nowMs = startedAt2 + 86_000;
    e2.injectTokenFaults([{ kind: 'status', status: 401 }]);
    expect(await failureOf(() => second.token())).toBeInstanceOf(ZendeskPermanentError);

    // A token Zendesk refused is not used again, whatever its expiry says.
    const { e: e3, source: third, startedAt: startedAt3 } = await setUp();
    const refused = await third.token();
    nowMs = startedAt3 + 85_000;
    third.refused(refused);
    e3.injectTokenFaults([{ kind: 'status', status: 503 }]);
    expect(await failureOf(() => third.token())).toBeInstanceOf(ZendeskTransientError);
  });
});

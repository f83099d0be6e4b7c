import {
  CURSOR_PATH,
  DEFAULT_OAUTH_CLIENT,
  EXPORT_PATH,
  INCREMENTAL_PATH,
  OAUTH_TOKENS_PATH,
  SAMPLE_PATH,
  startEmulator,
  type Emulator,
  type EmulatorOptions,
} from '../../src/emulator';

const BASIC_AUTH = `Basic ${Buffer.from('admin@example.com/token:emulator-token').toString('base64')}`;
const CLIENT = DEFAULT_OAUTH_CLIENT;
const OTHER_CLIENT = { clientId: 'second-client', clientSecret: 'another-secret-of-the-second-client-0000' };
const INVALID_TOKEN = {
  error: 'invalid_token',
  error_description: 'The access token provided is expired, revoked, malformed or invalid for other reasons.',
};
const ENDPOINTS = [
  `${EXPORT_PATH}?start_time=0`,
  `${SAMPLE_PATH}?start_time=0`,
  `${INCREMENTAL_PATH}?start_time=0`,
  `${CURSOR_PATH}?start_time=0`,
];

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

interface Grant {
  access_token: string;
  token_type: string;
  scope: string;
  expires_in: number;
}

const started: Emulator[] = [];

async function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator({
    port: 0,
    ticketCount: 50,
    windowSeconds: 0,
    incrementalRequestsPerMinute: 0,
    oauthClients: [CLIENT, OTHER_CLIENT],
    ...options,
  });
  started.push(emu);
  return emu;
}

afterAll(async () => {
  await Promise.all(started.map((emu) => emu.close()));
});

async function reply(res: Response): Promise<Reply> {
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
}

async function requestToken(emu: Emulator, body: unknown, signal?: AbortSignal): Promise<Reply> {
  const res = await fetch(`${emu.url}${OAUTH_TOKENS_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
  return reply(res);
}

function grantRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    grant_type: 'client_credentials',
    client_id: CLIENT.clientId,
    client_secret: CLIENT.clientSecret,
    scope: 'read',
    expires_in: 3600,
    ...overrides,
  };
}

async function token(emu: Emulator, overrides: Record<string, unknown> = {}): Promise<string> {
  const answer = await requestToken(emu, grantRequest(overrides));
  expect(answer.status).toBe(200);
  return answer.json<Grant>().access_token;
}

async function get(emu: Emulator, path: string, authorization?: string): Promise<Reply> {
  return reply(await fetch(`${emu.url}${path}`, { headers: authorization ? { authorization } : {} }));
}

describe('POST /oauth/tokens', () => {
  test('grants a random bearer token with the scope asked; expires_in is capped by oauthTokenTtlSeconds', async () => {
    const emu = await emulator({ oauthTokenTtlSeconds: 15 });
    const answer = await requestToken(emu, grantRequest({ scope: 'tickets:read users:read' }));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const grant = answer.json<Grant>();
    expect(grant).toEqual({
      access_token: expect.stringMatching(/^[0-9a-f]{64}$/),
      token_type: 'bearer',
      scope: 'tickets:read users:read',
      expires_in: 15,
    });
    const again = (await requestToken(emu, grantRequest())).json<Grant>();
    expect(again.access_token).not.toBe(grant.access_token);
    expect(again.expires_in).toBe(15);
    expect(emu.stats()).toMatchObject({ tokenGrants: 2, tokenErrors: 0, calls: 0 });
    expect(emu.stats().tokenLog).toEqual([
      { at: expect.any(Number), status: 200 },
      { at: expect.any(Number), status: 200 },
    ]);
  });

  test('without the TTL option a token lives what was asked, or 1800 s; another client gets its own', async () => {
    const emu = await emulator();
    expect((await requestToken(emu, grantRequest({ expires_in: 301 }))).json<Grant>().expires_in).toBe(301);
    expect((await requestToken(emu, grantRequest({ expires_in: undefined }))).json<Grant>().expires_in).toBe(1800);
    const other = grantRequest({ client_id: OTHER_CLIENT.clientId, client_secret: OTHER_CLIENT.clientSecret });
    expect((await requestToken(emu, other)).status).toBe(200);
  });

  test('refusals: invalid_client (401), unsupported_grant_type, invalid_request, invalid_scope (400)', async () => {
    const emu = await emulator();
    const cases: Array<[unknown, number, string, RegExp?]> = [
      [grantRequest({ client_secret: 'wrong' }), 401, 'invalid_client'],
      [grantRequest({ client_id: 'nobody' }), 401, 'invalid_client'],
      [grantRequest({ client_secret: OTHER_CLIENT.clientSecret }), 401, 'invalid_client'],
      [grantRequest({ grant_type: 'password' }), 400, 'unsupported_grant_type'],
      [grantRequest({ grant_type: 'refresh_token' }), 400, 'unsupported_grant_type'],
      [grantRequest({ expires_in: 300 }), 400, 'invalid_request', /greater than 300 and less than 172800/],
      [grantRequest({ expires_in: 172800 }), 400, 'invalid_request', /less than 172800/],
      [grantRequest({ expires_in: '3600' }), 400, 'invalid_request', /expires_in/],
      [grantRequest({ expires_in: 3600.5 }), 400, 'invalid_request', /expires_in/],
      [grantRequest({ scope: undefined }), 400, 'invalid_request', /scope/],
      [grantRequest({ client_secret: undefined }), 400, 'invalid_request', /client_secret/],
      [grantRequest({ grant_type: undefined }), 400, 'invalid_request', /grant_type/],
      [grantRequest({ scope: 'read tickets:destroy' }), 400, 'invalid_scope'],
      ['{"grant_type": "client_credentials", ', 400, 'invalid_request', /JSON/],
      ['[1, 2]', 400, 'invalid_request'],
      ['', 400, 'invalid_request'],
    ];
    for (const [body, status, error, description] of cases) {
      const answer = await requestToken(emu, body);
      expect({ body, status: answer.status }).toEqual({ body, status });
      const parsed = answer.json<{ error: string; error_description: string }>();
      expect(parsed).toEqual({ error, error_description: expect.any(String) });
      if (description) expect(parsed.error_description).toMatch(description);
      expect(answer.text).not.toContain(CLIENT.clientSecret);
    }
    const stats = emu.stats();
    expect(stats).toMatchObject({ tokenGrants: 0, tokenErrors: cases.length, calls: 0, log: [] });
    expect(stats.tokenLog.map((entry) => entry.status)).toEqual(cases.map(([, status]) => status));
  });

  test('only POST: another method is not the token endpoint', async () => {
    const emu = await emulator();
    expect((await get(emu, OAUTH_TOKENS_PATH)).status).toBe(404);
    expect(emu.stats().tokenLog).toEqual([]);
  });
});

describe('OAuth mode on the export endpoints', () => {
  test('a bearer token works on all four endpoints', async () => {
    const emu = await emulator();
    const bearer = `Bearer ${await token(emu)}`;
    for (const path of ENDPOINTS) expect((await get(emu, path, bearer)).status).toBe(200);
    expect(emu.stats()).toMatchObject({
      calls: 4,
      byStatus: { '200': 4 },
      byEndpoint: { export: 1, sample: 1, incremental: 1, cursor: 1 },
      unauthenticatedCalls: 0,
    });
  });

  test('Basic credentials, no credentials, an unknown or malformed token: 401 on every endpoint', async () => {
    const emu = await emulator();
    await token(emu);
    for (const path of ENDPOINTS) {
      const basic = await get(emu, path, BASIC_AUTH);
      expect(basic.status).toBe(401);
      expect(basic.headers.get('www-authenticate')).toBe('Bearer');
      expect((await get(emu, path)).status).toBe(401);
      const unknown = await get(emu, path, `Bearer ${'0'.repeat(64)}`);
      expect(unknown.status).toBe(401);
      expect(unknown.json()).toEqual(INVALID_TOKEN);
      expect(unknown.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect((await get(emu, path, 'Bearer two words')).json()).toEqual(INVALID_TOKEN);
    }
    expect(emu.stats()).toMatchObject({ calls: 16, unauthenticatedCalls: 16, expiredTokenCalls: 0 });
  });

  test('an expired token: 401 invalid_token, counted in expiredTokenCalls (the emulator clock decides)', async () => {
    let skewMs = 0;
    const emu = await emulator({ oauthTokenTtlSeconds: 15, now: () => Date.now() + skewMs });
    const bearer = `Bearer ${await token(emu)}`;
    expect((await get(emu, ENDPOINTS[0], bearer)).status).toBe(200);
    skewMs = 14_000;
    expect((await get(emu, ENDPOINTS[2], bearer)).status).toBe(200);
    skewMs = 15_000;
    for (const path of ENDPOINTS) {
      const expired = await get(emu, path, bearer);
      expect(expired.status).toBe(401);
      expect(expired.json()).toEqual(INVALID_TOKEN);
      expect(expired.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    }
    expect(emu.stats()).toMatchObject({ expiredTokenCalls: 4, unauthenticatedCalls: 4, byStatus: { '200': 2 } });
    // a new token works again
    expect((await get(emu, ENDPOINTS[0], `Bearer ${await token(emu)}`)).status).toBe(200);
  });

  test('a 1-second token expires in real time too', async () => {
    const emu = await emulator({ oauthTokenTtlSeconds: 1 });
    const bearer = `Bearer ${await token(emu)}`;
    expect((await get(emu, ENDPOINTS[3], bearer)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await get(emu, ENDPOINTS[3], bearer)).status).toBe(401);
    expect(emu.stats().expiredTokenCalls).toBe(1);
  });

  test('revokeTokens (and its test endpoint): every token issued so far is refused, new ones work', async () => {
    const emu = await emulator();
    const first = `Bearer ${await token(emu)}`;
    const second = `Bearer ${await token(emu)}`;
    emu.revokeTokens();
    expect((await get(emu, ENDPOINTS[0], first)).json()).toEqual(INVALID_TOKEN);
    expect((await get(emu, ENDPOINTS[0], second)).status).toBe(401);
    const third = `Bearer ${await token(emu)}`;
    expect((await get(emu, ENDPOINTS[0], third)).status).toBe(200);
    const revoked = await fetch(`${emu.url}/__emulator/tokens/revoke`, { method: 'POST' });
    expect(revoked.status).toBe(200);
    expect((await get(emu, ENDPOINTS[0], third)).status).toBe(401);
    // a revoked token is not an expired one
    expect(emu.stats()).toMatchObject({ unauthenticatedCalls: 3, expiredTokenCalls: 0 });
  });

  test('a token without read or tickets:read gets 403; tickets:read alone is enough', async () => {
    const emu = await emulator();
    for (const scope of ['write', 'users:read', 'tickets:write users:read']) {
      const bearer = `Bearer ${await token(emu, { scope })}`;
      for (const path of ENDPOINTS) {
        const forbidden = await get(emu, path, bearer);
        expect(forbidden.status).toBe(403);
        expect(forbidden.json()).toMatchObject({ error: 'insufficient_scope' });
      }
    }
    const ticketsOnly = `Bearer ${await token(emu, { scope: 'tickets:read' })}`;
    for (const path of ENDPOINTS) expect((await get(emu, path, ticketsOnly)).status).toBe(200);
    expect(emu.stats()).toMatchObject({ byStatus: { '403': 12, '200': 4 }, unauthenticatedCalls: 0 });
  });

  test('a refused call consumes no fault; a 401 fault answers like Zendesk does to a bad token', async () => {
    const emu = await emulator();
    const bearer = `Bearer ${await token(emu)}`;
    emu.injectFaults([{ kind: 'status', status: 401 }]);
    expect((await get(emu, ENDPOINTS[0], BASIC_AUTH)).status).toBe(401);
    const faulted = await get(emu, ENDPOINTS[0], bearer);
    expect(faulted.status).toBe(401);
    expect(faulted.json()).toEqual(INVALID_TOKEN);
    expect(faulted.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect((await get(emu, ENDPOINTS[0], bearer)).status).toBe(200);
    expect(emu.stats()).toMatchObject({ unauthenticatedCalls: 2, tokenGrants: 1 });
  });
});

describe('token faults', () => {
  test('a 429 with Retry-After, a 500 and a slow answer apply in order; then normal grants resume', async () => {
    const emu = await emulator();
    emu.injectTokenFaults([
      { kind: 'rateLimit', retryAfter: '7' },
      { kind: 'status', status: 500 },
      { kind: 'slow', delayMs: 300 },
    ]);
    const limited = await requestToken(emu, grantRequest());
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    const failed = await requestToken(emu, grantRequest());
    expect(failed.status).toBe(500);
    expect(failed.json()).toEqual({ error: 'Internal Server Error' });
    const before = Date.now();
    const slow = await requestToken(emu, grantRequest());
    expect(Date.now() - before).toBeGreaterThanOrEqual(290);
    expect(slow.status).toBe(200);
    expect((await requestToken(emu, grantRequest())).status).toBe(200);

    const stats = emu.stats();
    expect(stats.tokenLog.map(({ status, fault }) => ({ status, fault }))).toEqual([
      { status: 429, fault: 'rateLimit' },
      { status: 500, fault: 'status' },
      { status: 200, fault: 'slow' },
      { status: 200, fault: undefined },
    ]);
    expect(stats).toMatchObject({ tokenGrants: 2, tokenErrors: 2, calls: 0, retryAfterIssued: 0, log: [] });
    // the slow answer's token is a real one
    expect((await get(emu, ENDPOINTS[0], `Bearer ${slow.json<Grant>().access_token}`)).status).toBe(200);
  });

  test('the export endpoints and the token endpoint have separate queues', async () => {
    const emu = await emulator();
    emu.injectFaults([{ kind: 'status', status: 502 }]);
    emu.injectTokenFaults([{ kind: 'status', status: 503, retryAfter: '3', body: 'down' }]);
    const down = await requestToken(emu, grantRequest());
    expect(down.status).toBe(503);
    expect(down.text).toBe('down');
    expect(down.headers.get('retry-after')).toBe('3');
    const bearer = `Bearer ${await token(emu)}`;
    expect((await get(emu, ENDPOINTS[0], bearer)).status).toBe(502);
    expect((await get(emu, ENDPOINTS[0], bearer)).status).toBe(200);
  });

  test('reset, truncated, html200, body; an abandoned slow request is recorded as aborted', async () => {
    const emu = await emulator();
    emu.injectTokenFaults([
      { kind: 'reset' },
      { kind: 'truncated' },
      { kind: 'html200' },
      { kind: 'body', body: '{"access_token": 42}' },
      { kind: 'slow', delayMs: 200 },
    ]);
    await expect(requestToken(emu, grantRequest())).rejects.toThrow();
    const truncated = await requestToken(emu, grantRequest());
    expect(truncated.status).toBe(200);
    expect(truncated.text.startsWith('{"access_token":"')).toBe(true);
    expect(() => truncated.json()).toThrow(SyntaxError);
    const html = await requestToken(emu, grantRequest());
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect((await requestToken(emu, grantRequest())).text).toBe('{"access_token": 42}');
    await expect(requestToken(emu, grantRequest(), AbortSignal.timeout(50))).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stats = emu.stats();
    expect(stats.tokenLog.map((entry) => entry.status)).toEqual(['reset', 200, 200, 200, 'aborted']);
    expect(stats).toMatchObject({ tokenGrants: 0, tokenErrors: 5 });
  });

  test("echo: a refusal that quotes the request, the client secret of the token request and a GET's header", async () => {
    const emu = await emulator();
    emu.injectTokenFaults([
      { kind: 'echo', status: 400 },
      { kind: 'echo', status: 500 },
    ]);
    const body = JSON.stringify(grantRequest());
    for (const status of [400, 500]) {
      const echoed = await requestToken(emu, body);
      expect(echoed.status).toBe(status);
      expect(echoed.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(echoed.json()).toEqual({
        error: 'request_rejected',
        error_description: `Blocked: POST /oauth/tokens ${body}`,
      });
    }
    expect((await requestToken(emu, grantRequest())).status).toBe(200);
    expect(emu.stats().tokenLog.map(({ status, fault }) => ({ status, fault }))).toEqual([
      { status: 400, fault: 'echo' },
      { status: 500, fault: 'echo' },
      { status: 200, fault: undefined },
    ]);

    const bearer = `Bearer ${await token(emu)}`;
    emu.injectFaults([{ kind: 'echo', status: 502 }]);
    const quoted = await get(emu, ENDPOINTS[2], bearer);
    expect(quoted.status).toBe(502);
    expect(quoted.json<{ error_description: string }>().error_description).toBe(
      `Blocked: GET ${ENDPOINTS[2]} Authorization: ${bearer}`,
    );
    expect(emu.stats().log.at(-1)).toMatchObject({ status: 502, fault: 'echo' });
    expect(() => emu.injectTokenFaults([{ kind: 'echo' } as never])).toThrow(/status must be an HTTP status/);
  });

  test('over HTTP: /__emulator/token-faults queues, DELETE clears, bad specs get 400', async () => {
    const emu = await emulator();
    const post = (body: unknown) =>
      fetch(`${emu.url}/__emulator/token-faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(reply);
    const queued = await post({ faults: [{ kind: 'status', status: 500, count: 2 }] });
    expect(queued.json()).toEqual({ ok: true, queued: 2 });
    expect((await requestToken(emu, grantRequest())).status).toBe(500);
    expect((await fetch(`${emu.url}/__emulator/token-faults`, { method: 'DELETE' })).status).toBe(200);
    expect((await requestToken(emu, grantRequest())).status).toBe(200);
    expect((await post({ faults: [{ kind: 'slow' }] })).status).toBe(400);
    expect(() => emu.injectTokenFaults([{ kind: 'nope' } as never])).toThrow(/kind/);

    const stats = (await get(emu, '/__emulator/stats')).json();
    expect(stats).toMatchObject({ tokenGrants: 1, tokenErrors: 1, expiredTokenCalls: 0, unauthenticatedCalls: 0 });
    expect(stats.tokenLog).toHaveLength(2);
    expect((await fetch(`${emu.url}/__emulator/stats/reset`, { method: 'POST' })).status).toBe(200);
    expect(emu.stats()).toMatchObject({ tokenGrants: 0, tokenErrors: 0, tokenLog: [] });
  });
});

describe('without oauthClients', () => {
  test('Basic auth exactly as before; a bearer token is refused even if /oauth/tokens was asked', async () => {
    const emu = await emulator({ oauthClients: undefined });
    expect(emu.options.oauthClients).toEqual([]);
    const refused = await requestToken(emu, grantRequest());
    expect(refused.status).toBe(401);
    expect(refused.json()).toMatchObject({ error: 'invalid_client' });
    for (const path of ENDPOINTS) expect((await get(emu, path, BASIC_AUTH)).status).toBe(200);
    const bearer = await get(emu, ENDPOINTS[0], `Bearer ${'0'.repeat(64)}`);
    expect(bearer.status).toBe(401);
    expect(bearer.json()).toEqual({ error: "Couldn't authenticate you" });
    expect(bearer.headers.get('www-authenticate')).toBe('Basic realm="Web Password"');
    expect(emu.stats()).toMatchObject({ calls: 5, unauthenticatedCalls: 1, tokenErrors: 1 });
  });

  test('bad oauth options are refused at start', async () => {
    await expect(emulator({ oauthClients: [{ clientId: '', clientSecret: 'x' }] })).rejects.toThrow(
      /oauthClients\[0\]/,
    );
    await expect(emulator({ oauthClients: [CLIENT, CLIENT] })).rejects.toThrow(/twice/);
    await expect(emulator({ oauthTokenTtlSeconds: 0 })).rejects.toThrow(/oauthTokenTtlSeconds/);
  });
});

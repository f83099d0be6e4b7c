import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DEFAULT_CREDENTIALS,
  DEFAULT_OAUTH_CLIENT,
  startEmulator,
  TICKET_COUNT_PATH,
  type Emulator,
  type EmulatorOptions,
} from '../../src/emulator';
import { ZendeskClient } from '../../src/zendesk/client';
import { ZendeskPermanentError, ZendeskTransientError } from '../../src/zendesk/errors';
import type { ZendeskAuth } from '../../src/zendesk/auth';

// GET /api/v2/tickets/count.json ("Count Tickets"): the emulator's answer over real HTTP, and the Zendesk client that
// `start` asks it with.

const API_TOKEN: ZendeskAuth = {
  mode: 'api_token',
  email: DEFAULT_CREDENTIALS.email,
  apiToken: DEFAULT_CREDENTIALS.apiToken,
};
const BASIC = `Basic ${Buffer.from(`${DEFAULT_CREDENTIALS.email}/token:${DEFAULT_CREDENTIALS.apiToken}`).toString('base64')}`;

const started: { close(): Promise<void> | void }[] = [];
afterAll(async () => {
  await Promise.all(started.map((s) => s.close()));
});

async function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator({ port: 0, ticketCount: 250, windowSeconds: 0, ...options });
  started.push(emu);
  return emu;
}

async function get(url: string, authorization?: string) {
  const res = await fetch(url, { headers: authorization ? { authorization } : {} });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function client(baseUrl: string, auth: ZendeskAuth = API_TOKEN) {
  return new ZendeskClient({ baseUrl, auth, timeoutMs: 5_000 });
}

/** A server that answers every request with this status, type and body: what a broken Zendesk might send. */
async function stub(status: number, body: string, headers: Record<string, string> = {}): Promise<string> {
  const server = http.createServer((_req, res) =>
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(body),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  started.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('the emulator: GET /api/v2/tickets/count.json', () => {
  test("answers Zendesk's shape with every ticket it holds, with and without .json", async () => {
    const emu = await emulator();
    const before = Date.now();
    for (const path of [TICKET_COUNT_PATH, '/api/v2/tickets/count']) {
      const reply = await get(`${emu.url}${path}`, BASIC);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
      const body = JSON.parse(reply.text) as { count: { value: number; refreshed_at: string } };
      expect(body).toEqual({
        count: { value: 250, refreshed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) },
      });
      expect(Date.parse(body.count.refreshed_at)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    }
    // The truth's tickets, deleted ones included: the count the exports will read.
    expect(emu.truth()).toHaveLength(250);
    emu.addBurst(30);
    emu.mutate(5, 'create');
    const after = JSON.parse((await get(`${emu.url}${TICKET_COUNT_PATH}`, BASIC)).text);
    expect(after.count.value).toBe(285);
    expect(emu.truth()).toHaveLength(285);
    // Counted on its own: the exports' call statistics and log stay as they were.
    expect(emu.stats()).toMatchObject({ ticketCountCalls: 3, calls: 0, log: [] });
  });

  test('signs in like the exports: a wrong or missing API token is 401; with OAuth, only a live token', async () => {
    const emu = await emulator();
    const wrong = `Basic ${Buffer.from(`${DEFAULT_CREDENTIALS.email}/token:not-the-token`).toString('base64')}`;
    expect((await get(`${emu.url}${TICKET_COUNT_PATH}`, wrong)).status).toBe(401);
    expect((await get(`${emu.url}${TICKET_COUNT_PATH}`)).status).toBe(401);
    expect((await get(`${emu.url}${TICKET_COUNT_PATH}?x=1`, BASIC)).status).toBe(200);
    expect((await get(`${emu.url}/api/v2/tickets/counts.json`, BASIC)).status).toBe(404);

    const oauth = await emulator({ ticketCount: 12, oauthClients: [DEFAULT_OAUTH_CLIENT] });
    expect((await get(`${oauth.url}${TICKET_COUNT_PATH}`, BASIC)).status).toBe(401);
    const count = await client(oauth.url, {
      mode: 'oauth_client_credentials',
      clientId: DEFAULT_OAUTH_CLIENT.clientId,
      clientSecret: DEFAULT_OAUTH_CLIENT.clientSecret,
      scope: 'read',
      tokenTtlSeconds: 3600,
    }).countTickets();
    expect(count).toEqual({ value: 12, refreshedAt: expect.any(String) });
    expect(oauth.stats()).toMatchObject({ tokenGrants: 1, ticketCountCalls: 2 });
  });

  test('counts against the account-wide bucket: its header, then a 429 with Retry-After', async () => {
    const emu = await emulator({ accountRequestsPerMinute: 2 });
    const first = await get(`${emu.url}${TICKET_COUNT_PATH}`, BASIC);
    expect(first.headers.get('x-rate-limit-remaining')).toBe('1');
    expect((await get(`${emu.url}${TICKET_COUNT_PATH}`, BASIC)).status).toBe(200);
    const limited = await get(`${emu.url}${TICKET_COUNT_PATH}`, BASIC);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(emu.stats().buckets.account).toMatchObject({ accepted: 2, rateLimited: 1 });
  });
});

describe('ZendeskClient.countTickets', () => {
  test("reads the emulator's count", async () => {
    const emu = await emulator({ ticketCount: 1001 });
    expect(await client(emu.url).countTickets()).toEqual({ value: 1001, refreshedAt: expect.any(String) });
  });

  test('a count being refreshed (refreshed_at null) is read as such', async () => {
    const url = await stub(200, JSON.stringify({ count: { value: 100_000, refreshed_at: null } }));
    expect(await client(url).countTickets()).toEqual({ value: 100_000, refreshedAt: null });
  });

  test('a refusal, a rate limit or a body of another shape is an error naming it, never the token', async () => {
    const emu = await emulator();
    const refused = await failure(
      client(emu.url, { ...API_TOKEN, apiToken: 'wrong-token-4f1c9e' } as ZendeskAuth).countTickets(),
    );
    expect(refused).toBeInstanceOf(ZendeskPermanentError);
    expect(refused.message).toMatch(/^GET \/api\/v2\/tickets\/count\.json: 401 Unauthorized/);
    expect(refused.message).not.toContain('wrong-token-4f1c9e');

    const forbidden = await failure(client(await stub(403, '{"error":"Forbidden"}')).countTickets());
    expect(forbidden.message).toMatch(/count\.json: 403 Forbidden/);

    const limited = await failure(client(await stub(429, '{}', { 'Retry-After': '37' })).countTickets());
    expect(limited).toBeInstanceOf(ZendeskTransientError);
    expect(limited.message).toBe('GET /api/v2/tickets/count.json: 429 rate limited (Retry-After 37 s)');

    for (const body of ['{"count": 12}', '{"count": {"value": -1}}', '{"tickets": []}', '[]']) {
      const bad = await failure(client(await stub(200, body)).countTickets());
      expect(bad).toBeInstanceOf(ZendeskTransientError);
      expect(bad.message).toMatch(/count\.json: the body does not match the ticket count format: (count|body)/);
    }
    const html = await failure(client(await stub(200, '<html>', { 'Content-Type': 'text/html' })).countTickets());
    expect(html.message).toMatch(/expected JSON, got "text\/html"/);
  });
});

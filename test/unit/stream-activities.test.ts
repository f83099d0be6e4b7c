import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createFetchStreamPage } from '../../src/activities/fetch-stream-page';
import { createLoadStreamCheckpoint, createPersistStream } from '../../src/activities/persist-stream';
import {
  countComments,
  inlineStreamPage,
  streamPageJson,
  summarizeStreamPage,
  type ReadStreamPage,
} from '../../src/activities/stream-page-summary';
import { isStaged, STAGED_PAGE_GONE } from '../../src/activities/types';
import type { BlobStore } from '../../src/codec/blob-store';
import { INLINE_PAGE_MAX_BYTES } from '../../src/codec/limits';
import { PageStaging } from '../../src/codec/staged-pages';
import { PERMANENT_FAILURE, TRANSIENT_FAILURE } from '../../src/shared';
import type {
  FetchStreamInput,
  FetchStreamResult,
  LoadStreamCheckpointInput,
  PersistStreamInput,
  PersistStreamOutput,
  PersistStreamPageInput,
  StreamCheckpoint,
  StreamContent,
  StreamSink,
} from '../../src/streams/contract';
import type { AroundStream } from '../../src/streams/names';
import { ZendeskClient } from '../../src/zendesk/client';
import { leaksIn } from '../helpers/secret-forms';
import { startZendeskStub, type StubAnswer, type ZendeskStub } from '../helpers/zendesk-stub';

// The activities of the streams around the ticket with a mock activity context: a local server for Zendesk, a blob
// store in memory, a sink that records what it is given. No Temporal server, no database.

const ACCOUNT = 'acme';
const API_TOKEN = 'zd-activity-token-83b2';

class MemoryBlobStore implements BlobStore {
  readonly blobs = new Map<string, Uint8Array>();
  async put(id: string, data: Uint8Array) {
    this.blobs.set(id, data);
  }
  async get(id: string) {
    return this.blobs.get(id);
  }
  async deleteOlderThan() {
    const count = this.blobs.size;
    this.blobs.clear();
    return count;
  }
  async close() {}
}

class RecordingSink implements StreamSink {
  readonly pages: PersistStreamPageInput[] = [];
  readonly checkpoints = new Map<string, StreamCheckpoint>();
  async persistStreamPage(input: PersistStreamPageInput) {
    this.pages.push(input);
    this.checkpoints.set(`${input.account}/${input.stream}`, input.checkpoint);
    const rejected = input.setAside?.length ?? 0;
    return { written: input.rows.length, ignoredOlder: 0, rejected };
  }
  async readStreamCheckpoint(account: string, stream: AroundStream) {
    return this.checkpoints.get(`${account}/${stream}`);
  }
  async readStreamTable() {
    return [];
  }
  async countStreamTable() {
    return 0;
  }
}

let zendesk: ZendeskStub;
let blobs: MemoryBlobStore;
let staging: PageStaging;
let sink: RecordingSink;
let env: MockActivityEnvironment;

beforeAll(async () => {
  zendesk = await startZendeskStub();
  // Quiet: the failures the tests expect would be logged as errors.
  env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR', () => undefined) });
});
afterAll(() => zendesk?.close());
beforeEach(() => {
  blobs = new MemoryBlobStore();
  staging = new PageStaging(blobs);
  sink = new RecordingSink();
});

function fetchStreamPage(input: FetchStreamInput, accounts = [ACCOUNT]): Promise<FetchStreamResult> {
  const clients = new Map(
    accounts.map((account) => [
      account,
      new ZendeskClient({
        baseUrl: zendesk.url,
        auth: { mode: 'api_token', email: 'a@acme.test', apiToken: API_TOKEN },
      }),
    ]),
  );
  return env.run(createFetchStreamPage({ zendesk: clients, staging }), input);
}

function persistStream(input: PersistStreamInput): Promise<PersistStreamOutput> {
  return env.run(createPersistStream({ sink, staging }), input);
}

function loadStreamCheckpoint(input: LoadStreamCheckpointInput): Promise<StreamCheckpoint | null> {
  return env.run(createLoadStreamCheckpoint({ sink }), input);
}

async function fetchTicketEvents(answer: StubAnswer, extra: { minGapMs?: number } = {}): Promise<FetchStreamResult> {
  zendesk.answer(answer);
  return fetchStreamPage({ account: ACCOUNT, stream: 'ticket_events', startTime: 1000, perPage: 1000, ...extra });
}

async function failureOf(run: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await run.then(
    () => {
      throw new Error('expected the activity to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

function ticketEvent(id: number, timestamp: number, children: Record<string, unknown>[] = []) {
  return { id, ticket_id: 1, timestamp, via: 'Web form', event_type: 'Audit', child_events: children };
}

function comment(id: number, body = 'Hello') {
  return { id, event_type: 'Comment', via: null, body, html_body: `<p>${body}</p>`, public: true, attachments: [] };
}

describe('the summary of a stream page', () => {
  const page = (rows: ReadStreamPage['rows'], rowTimes: number[], setAside = 0): ReadStreamPage => ({
    stream: 'ticket_events',
    rows,
    rowTexts: rows.map((row) => JSON.stringify(row)),
    rowTimes,
    setAside: Array.from({ length: setAside }, (_, i) => ({ row: { id: -1 - i }, reason: 'id: not positive' })),
  });

  test('rows count the set-aside ones; newest and oldest come from the kept rows; comments are Comment children', () => {
    const events = [
      ticketEvent(1, 50, [comment(11), { id: 12, event_type: 'Change', status: 'open' }]),
      ticketEvent(2, 90, [comment(21), comment(22), { id: 23, event_type: 'Comment' }]),
      ticketEvent(3, 70),
    ];
    expect(summarizeStreamPage(page(events, [50, 90, 70], 2), 123)).toEqual({
      rows: 5,
      setAside: 2,
      newest: 90,
      oldest: 50,
      bytes: 123,
      comments: 4,
    });
    expect(
      countComments([
        { id: 1, child_events: 'not a list' },
        { id: 2, child_events: [null, 3, { event_type: 'Comment' }] },
      ]),
    ).toBe(1);
  });

  test('a page of set-aside rows only: no time at all; other streams carry no comment count', () => {
    expect(summarizeStreamPage(page([], [], 1), 0)).toEqual({
      rows: 1,
      setAside: 1,
      newest: 0,
      oldest: null,
      bytes: 0,
      comments: 0,
    });
    const users: ReadStreamPage = { ...page([{ id: 1 }], [1_700_000_000]), stream: 'users' };
    expect(summarizeStreamPage(users, 9)).toEqual({
      rows: 1,
      setAside: 0,
      newest: 1_700_000_000,
      oldest: 1_700_000_000,
      bytes: 9,
    });
  });

  test('the JSON handed on is the inline page after a trip through the history', () => {
    const read = page([ticketEvent(1, 5, [comment(2)])], [5], 1);
    expect(JSON.parse(streamPageJson(read))).toEqual(inlineStreamPage(read));
    expect(inlineStreamPage(page([{ id: 1 }], [5]))).toEqual({ rows: [{ id: 1 }] });
  });
});

describe('fetchStreamPage', () => {
  test('a small page travels inline, with its summary and where the stream goes next', async () => {
    const now = Math.floor(Date.now() / 1000);
    const events = [ticketEvent(1, now - 300, [comment(11)]), ticketEvent(2, now - 200, [comment(21), comment(22)])];
    const bad = { id: 3, timestamp: (now - 200) * 1000, child_events: [] };
    const result = await fetchTicketEvents({
      body: { ticket_events: [events[0], bad, events[1]], end_time: now - 200, end_of_stream: true },
    });
    if (result.kind !== 'page') throw new Error(`expected a page: ${JSON.stringify(result)}`);
    expect(result).toMatchObject({
      endTime: now - 200,
      afterCursor: null,
      endOfStream: true,
      summary: { rows: 3, setAside: 1, newest: now - 200, oldest: now - 300, comments: 3 },
    });
    expect(result.requestedAt).toBeLessThanOrEqual(result.completedAt);
    expect(result.vouchedUntil).toBeGreaterThanOrEqual(now - 5);
    expect(result.content).toEqual({
      rows: events,
      setAside: [{ row: bad, reason: expect.stringMatching(/^timestamp: .* is in milliseconds/) }],
    });
    expect(result.summary.bytes).toBe(Buffer.byteLength(JSON.stringify(result.content)));
    expect(blobs.blobs.size).toBe(0);
  });

  test('a page above the inline limit is staged, and persistStream stores it with the checkpoint', async () => {
    const now = Math.floor(Date.now() / 1000);
    const big = 'x'.repeat(2000);
    const events = Array.from({ length: Math.ceil(INLINE_PAGE_MAX_BYTES / 2000) + 5 }, (_, i) =>
      ticketEvent(i + 1, now - 600 + i, [comment(10_000 + i, big)]),
    );
    const result = await fetchTicketEvents({
      body: { ticket_events: events, end_time: now - 100, end_of_stream: false },
    });
    if (result.kind !== 'page') throw new Error('expected a page');
    expect(isStaged(result.content)).toBe(true);
    expect(result.summary).toMatchObject({ rows: events.length, setAside: 0, comments: events.length });
    expect(result.summary.bytes).toBeGreaterThan(INLINE_PAGE_MAX_BYTES);
    expect(blobs.blobs.size).toBe(1);

    const checkpoint = { cursor: now - 100, afterCursor: null };
    const output = await persistStream({
      account: ACCOUNT,
      stream: 'ticket_events',
      content: result.content,
      checkpoint,
    });
    expect(output).toEqual({ written: events.length, ignoredOlder: 0, rejected: 0, completedAt: expect.any(Number) });
    expect(sink.pages).toEqual([{ account: ACCOUNT, stream: 'ticket_events', rows: events, checkpoint }]);

    await expect(loadStreamCheckpoint({ account: ACCOUNT, stream: 'ticket_events' })).resolves.toEqual(checkpoint);
    await expect(loadStreamCheckpoint({ account: ACCOUNT, stream: 'users' })).resolves.toBeNull();
  });

  test('not a page: the outcome with the time of the request', async () => {
    const before = Date.now();
    const limited = await fetchTicketEvents({ status: 429, headers: { 'Retry-After': '30' }, body: '' });
    expect(limited).toMatchObject({ kind: 'rate_limited', retryAfterSeconds: 30 });
    expect(limited.requestedAt).toBeGreaterThanOrEqual(before);
    await expect(fetchTicketEvents({ status: 504, body: 'timeout' })).resolves.toMatchObject({
      kind: 'gateway_timeout',
    });
    await expect(
      fetchTicketEvents({ status: 400, body: { error: 'StartTimeTooRecent', description: 'Too recent start_time' } }),
    ).resolves.toMatchObject({ kind: 'too_recent' });
  });

  test('an account this worker holds no credentials for, and a 401, are permanent; no credential in the failure', async () => {
    zendesk.answer({ status: 200, body: { ticket_events: [] } });
    const unknown = await failureOf(
      fetchStreamPage({ account: ACCOUNT, stream: 'users', startTime: 0, perPage: 10 }, ['other']),
    );
    expect(unknown).toMatchObject({ type: PERMANENT_FAILURE, nonRetryable: true });
    expect(unknown.message).toMatch(/holds no credentials for "acme" \(it has "other"\)/);

    const refused = await failureOf(fetchTicketEvents({ status: 401, body: `bad token ${API_TOKEN}` }));
    expect(refused).toMatchObject({ type: PERMANENT_FAILURE, nonRetryable: true });
    expect(refused.message).toMatch(/401 Unauthorized/);
    expect(leaksIn(API_TOKEN, { message: refused.message, details: refused.details })).toEqual([]);
  });

  test('a transient failure is retried no sooner than the pacing gap or a Retry-After allows', async () => {
    const paced = await failureOf(fetchTicketEvents({ status: 502, body: 'bad gateway' }, { minGapMs: 30_000 }));
    expect(paced).toMatchObject({ type: TRANSIENT_FAILURE, nonRetryable: false });
    expect(Number(paced.nextRetryDelay)).toBeGreaterThan(29_000);
    const told = await failureOf(fetchTicketEvents({ status: 503, headers: { 'Retry-After': '20' }, body: 'busy' }));
    expect(Number(told.nextRetryDelay)).toBe(20_000);
  });
});

describe('persistStream', () => {
  test('an inline page with set-aside rows; an empty page stores the checkpoint only', async () => {
    const content: StreamContent = {
      rows: [{ id: 1, updated_at: '2023-11-14T22:13:20Z' }],
      setAside: [{ row: { id: 'x' }, reason: 'id: "x" is not a whole number' }],
    };
    const checkpoint = { cursor: 1_700_000_000, afterCursor: 'MTcwMC4x' };
    await expect(persistStream({ account: ACCOUNT, stream: 'users', content, checkpoint })).resolves.toMatchObject({
      written: 1,
      rejected: 1,
    });
    await persistStream({ account: ACCOUNT, stream: 'users', content: { rows: [] }, checkpoint });
    expect(sink.pages).toEqual([
      { account: ACCOUNT, stream: 'users', rows: content.rows, setAside: content.setAside, checkpoint },
      { account: ACCOUNT, stream: 'users', rows: [], checkpoint },
    ]);
  });

  test('a staged page no longer in the blob store: StagedPageGone, not retried', async () => {
    const staged = await staging.stage(JSON.stringify({ rows: [{ id: 1 }] }));
    await blobs.deleteOlderThan();
    const gone = await failureOf(
      persistStream({
        account: ACCOUNT,
        stream: 'organizations',
        content: staged,
        checkpoint: { cursor: 1, afterCursor: null },
      }),
    );
    expect(gone).toMatchObject({ type: STAGED_PAGE_GONE, nonRetryable: true });
    expect(sink.pages).toEqual([]);
  });
});

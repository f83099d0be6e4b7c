import { startEmulator, type Emulator } from '../../src/emulator';
import type { FetchStreamInput } from '../../src/streams/contract';
import { REFERENCE_LISTS } from '../../src/streams/names';
import { streamCall } from '../../src/zendesk/stream-requests';
import {
  afterReferencePage,
  nextReferenceRequest,
  nextRefreshAt,
  referenceCheckpoint,
} from '../../src/workflows/reference-rules';
import type { FetchedStreamPage } from '../../src/workflows/stream-rules';

const AUTH = `Basic ${Buffer.from('admin@example.com/token:emulator-token').toString('base64')}`;
const REFRESH = Date.UTC(2024, 4, 1, 12, 0, 0);

function page(fields: { afterCursor?: string | null; endOfStream?: boolean } = {}): FetchedStreamPage {
  return {
    kind: 'page',
    requestedAt: REFRESH,
    completedAt: REFRESH,
    vouchedUntil: REFRESH / 1000,
    summary: { rows: 0, setAside: 0, newest: 0, oldest: null, bytes: 10 },
    content: { rows: [] },
    endTime: null,
    afterCursor: fields.afterCursor ?? null,
    endOfStream: fields.endOfStream ?? fields.afterCursor == null,
  };
}

describe('the reference lists rules', () => {
  const context = { account: 'acme', perPage: 1000 };

  test('a refresh starts at the first list with 100 a page, and asks page[after] within a list', () => {
    expect(nextReferenceRequest({ afterCursor: null }, context)).toEqual({
      account: 'acme',
      stream: 'reference_lists',
      list: 'ticket_fields',
      startTime: 0,
      perPage: 100,
    });
    expect(nextReferenceRequest({ list: 2, afterCursor: 'abc' }, context)).toMatchObject({
      list: 'brands',
      afterCursor: 'abc',
    });
  });

  test('a page with more stays in its list; its last page moves to the next list, marking it done', () => {
    const state = { list: 0, afterCursor: null, refreshId: REFRESH };
    const request: FetchStreamInput = nextReferenceRequest(state, context);
    const more = afterReferencePage(state, request, page({ afterCursor: 'c1', endOfStream: false }));
    expect(more).toMatchObject({ list: 0, afterCursor: 'c1', caughtUp: false });
    expect(more.refresh).toEqual({ list: 'ticket_fields', refreshId: REFRESH, lastPage: false });
    expect(referenceCheckpoint(more)).toEqual({ cursor: REFRESH / 1000, afterCursor: 'ticket_fields:c1' });

    const last = afterReferencePage({ ...state, afterCursor: 'c1' }, request, page());
    expect(last).toMatchObject({ list: 1, afterCursor: null, caughtUp: false });
    expect(last.refresh.lastPage).toBe(true);
    expect(referenceCheckpoint(last)).toEqual({ cursor: REFRESH / 1000, afterCursor: 'groups' });
  });

  test('the last list done ends the refresh: caught up, back to the first list, a complete checkpoint', () => {
    const state = { list: REFERENCE_LISTS.length - 1, afterCursor: null, refreshId: REFRESH };
    const done = afterReferencePage(state, nextReferenceRequest(state, context), page());
    expect(done).toMatchObject({ list: 0, afterCursor: null, caughtUp: true });
    expect(done.refresh).toEqual({ list: 'custom_statuses', refreshId: REFRESH, lastPage: true });
    expect(referenceCheckpoint(done)).toEqual({ cursor: REFRESH / 1000, afterCursor: null });
    expect(nextRefreshAt({ ...state, lastCallAt: null }, 3_600_000)).toBe(REFRESH + 3_600_000);
  });

  test('a cursor that does not advance ends the list, with a warning, instead of asking forever', () => {
    const state = { list: 1, afterCursor: 'same', refreshId: REFRESH };
    const outcome = afterReferencePage(
      state,
      nextReferenceRequest(state, context),
      page({ afterCursor: 'same', endOfStream: false }),
    );
    expect(outcome).toMatchObject({ list: 2, afterCursor: null });
    expect(outcome.refresh.lastPage).toBe(true);
    expect(outcome.warnings).toHaveLength(1);
  });

  test('the calls: page[size] and page[after] on the paged lists, none on custom_statuses', () => {
    const base = { stream: 'reference_lists' as const, startTime: 0, perPage: 500 };
    expect(streamCall({ ...base, list: 'groups' })).toEqual({
      path: '/api/v2/groups.json?page%5Bsize%5D=100',
      perPage: 100,
    });
    expect(streamCall({ ...base, list: 'ticket_forms', afterCursor: 'xyz' })).toEqual({
      path: '/api/v2/ticket_forms.json?page%5Bsize%5D=100&page%5Bafter%5D=xyz',
      perPage: 100,
      cursorParam: 'page[after]',
    });
    expect(streamCall({ ...base, list: 'custom_statuses' }).path).toBe('/api/v2/custom_statuses.json');
  });
});

describe('the emulator reference lists', () => {
  let emu: Emulator;
  const clock = { now: REFRESH };
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, ticketCount: 50, now: () => clock.now });
  });
  afterAll(async () => emu.close());

  async function get(pathOrUrl: string) {
    const url = /^https?:/.test(pathOrUrl) ? pathOrUrl : `${emu.url}${pathOrUrl}`;
    const res = await fetch(url, { headers: { authorization: AUTH } });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  }

  test('ticket_fields pages by page[size] and page[after] to the whole list, links.next on each full page', async () => {
    const seen: number[] = [];
    let next: string | null = '/api/v2/ticket_fields.json?page[size]=10';
    let pages = 0;
    while (next) {
      const { status, body } = await get(next);
      expect(status).toBe(200);
      const meta = body.meta as { has_more: boolean; after_cursor: string };
      const links = body.links as { next: string | null };
      seen.push(...(body.ticket_fields as { id: number }[]).map((f) => f.id));
      next = meta.has_more ? `/api/v2/ticket_fields.json?page[size]=10&page[after]=${meta.after_cursor}` : null;
      expect(links.next === null).toBe(!meta.has_more);
      pages++;
    }
    const truth = emu.streamTruth('ticket_fields').map((f) => f.id);
    expect(seen).toEqual(truth);
    expect(truth.length).toBeGreaterThanOrEqual(24);
    expect(pages).toBe(Math.ceil(truth.length / 10));
  });

  test('the custom fields the tickets carry: drop-down option values are the slugs in the full tickets', () => {
    const fields = emu.streamTruth('ticket_fields');
    const values = new Map<number, Set<unknown>>();
    for (const ticket of emu.truthFull()) {
      for (const { id, value } of ticket.custom_fields) {
        if (value !== null) (values.get(id) ?? values.set(id, new Set()).get(id)!).add(value);
      }
    }
    for (const id of [360001, 360002]) {
      const field = fields.find((f) => f.id === id)!;
      expect(field.type).toBe('tagger');
      const optionValues = (field.custom_field_options as { value: string }[]).map((o) => o.value);
      for (const value of values.get(id) ?? []) expect(optionValues).toContain(value);
    }
    expect(fields.find((f) => f.id === 360003)?.title).toBe('Order number');
    expect(fields.find((f) => f.id === 360004)?.title).toBe('Notes');
    expect(fields.some((f) => f.type === 'subject')).toBe(true);
  });

  test('the groups are the ones the tickets carry', () => {
    const groupIds = new Set(emu.streamTruth('groups').map((g) => g.id));
    for (const ticket of emu.truthFull())
      if (ticket.group_id !== null) expect(groupIds.has(ticket.group_id)).toBe(true);
  });

  test('custom_statuses answers its whole list at once; a bad page[size] is a 400', async () => {
    const statuses = await get('/api/v2/custom_statuses.json?page[size]=2');
    expect(statuses.status).toBe(200);
    expect(statuses.body.meta).toBeUndefined();
    expect((statuses.body.custom_statuses as unknown[]).length).toBe(emu.streamTruth('custom_statuses').length);
    expect((await get('/api/v2/brands.json?page[size]=101')).status).toBe(400);
    expect((await get('/api/v2/brands.json?page[after]=nonsense')).status).toBe(400);
  });

  test('calls count in the account bucket and show its remaining calls', async () => {
    emu.resetStats();
    const answer = await get('/api/v2/brands.json');
    expect(answer.headers.get('x-rate-limit-remaining')).toMatch(/^\d+$/);
    const stats = emu.stats();
    expect(stats.buckets.account.accepted).toBe(1);
    expect(stats.byStream.reference_lists).toBe(1);
    expect(stats.buckets.incremental.accepted).toBe(0);
  });

  test('the control API adds, renames, deletes and restores an item', async () => {
    const post = async (path: string) =>
      fetch(`${emu.url}/__emulator/reference/${path}`, { method: 'POST' }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { row?: { id: number; name: string } },
      }));
    clock.now += 60_000;
    const added = await post('brands/add');
    expect(added.status).toBe(200);
    const id = added.body.row!.id;
    expect(emu.streamTruth('brands').map((b) => b.id)).toContain(id);
    const renamed = await post(`brands/${id}/rename`);
    expect(renamed.body.row!.name).toMatch(/renamed/);
    await post(`brands/${id}/delete`);
    expect(emu.streamTruth('brands').map((b) => b.id)).not.toContain(id);
    await post(`brands/${id}/restore`);
    expect(emu.streamTruth('brands').map((b) => b.id)).toContain(id);
    expect((await post('brands/1/delete')).status).toBe(404);
  });
});

import { describeSchemaError, exportPageSchema, exportRowSchema } from '../../src/zendesk/schemas';

function row(overrides: Record<string, unknown> = {}) {
  return {
    id: 1,
    generated_timestamp: 1_700_000_000,
    updated_at: '2023-11-14T22:13:20Z',
    status: 'Open',
    subject: 'Printer on fire',
    ...overrides,
  };
}

function goodPage() {
  return {
    results: [row(), row({ id: 2, generated_timestamp: 1_700_000_005, status: 'Deleted' })],
    end_time: 1_700_000_005,
    next_page: 'https://acme.zendesk.com/api/v2/exports/tickets.json?start_time=1700000005',
    field_headers: { id: 'Id', subject: 'Subject' },
    options: { timezone: 'UTC', hour_offset: 0 },
  };
}

function errorOf(body: unknown): string {
  const parsed = exportPageSchema.safeParse(body);
  if (parsed.success) throw new Error(`expected ${JSON.stringify(body)} to be rejected`);
  return describeSchemaError(parsed.error);
}

describe('exportPageSchema', () => {
  test('accepts a good page', () => {
    const parsed = exportPageSchema.safeParse(goodPage());
    expect(parsed.success).toBe(true);
    expect(parsed.data?.end_time).toBe(1_700_000_005);
    expect(parsed.data?.results.map((r) => r.id)).toEqual([1, 2]);
    expect(parsed.data?.field_headers).toEqual({ id: 'Id', subject: 'Subject' });
  });

  test('keeps unknown keys on the page and on the rows', () => {
    const body = {
      ...goodPage(),
      count: 2,
      end_of_stream: false,
      results: [row({ field_360001: 'custom', current_tags: 'vip urgent', via: { channel: 'email' } })],
    };
    const parsed = exportPageSchema.parse(body);
    expect(parsed).toMatchObject({ count: 2, end_of_stream: false });
    expect(parsed.results[0]).toMatchObject({
      field_360001: 'custom',
      current_tags: 'vip urgent',
      via: { channel: 'email' },
      subject: 'Printer on fire',
    });
  });

  test('accepts an empty page without end_time and with next_page null', () => {
    expect(exportPageSchema.safeParse({ results: [] }).success).toBe(true);
    expect(exportPageSchema.safeParse({ results: [], next_page: null, end_time: null }).success).toBe(true);
  });

  test('accepts rows with null or missing updated_at and status', () => {
    const body = { results: [{ id: 3, generated_timestamp: 0 }, row({ id: 4, updated_at: null, status: null })] };
    expect(exportPageSchema.safeParse(body).success).toBe(true);
  });

  test.each([
    ['results not an array', { results: { id: 1 } }, /^results: /],
    ['results missing', { end_time: 5 }, /^results: Required/],
    ['a row id as a string', { results: [row({ id: '1' })] }, /^results\[0\]\.id: Expected number, received string/],
    [
      'a row without generated_timestamp',
      { results: [row(), row({ id: 2, generated_timestamp: undefined })] },
      /^results\[1\]\.generated_timestamp: Required/,
    ],
    ['a fractional id', { results: [row({ id: 1.5 })] }, /^results\[0\]\.id: Expected integer/],
    ['a fractional generated_timestamp', { results: [row({ generated_timestamp: 1.5 })] }, /generated_timestamp/],
    ['end_time as a string', { results: [], end_time: '17' }, /^end_time: Expected number/],
    ['field_headers with a non-string name', { results: [], field_headers: { id: 1 } }, /^field_headers\.id: /],
  ])('rejects %s', (_label, body, message) => {
    expect(errorOf(body)).toMatch(message);
  });

  test.each([
    ['an array', []],
    ['null', null],
    ['a string', 'results'],
  ])('rejects a body that is %s, naming the body', (_label, body) => {
    expect(errorOf(body)).toMatch(/^body: Expected object/);
  });

  // A whole number that cannot be true is one ticket's problem, not the format's: plausibility.ts sets that ticket
  // aside and the rest of the page is stored.
  test.each([
    ['a negative id', { id: -1 }],
    ['an id of 0', { id: 0 }],
    ['an id beyond Number.MAX_SAFE_INTEGER', { id: 2 ** 63 }],
    ['a negative generated_timestamp', { generated_timestamp: -1 }],
    ['a generated_timestamp in milliseconds', { generated_timestamp: 1_700_000_000_000 }],
    ['a generated_timestamp beyond Number.MAX_SAFE_INTEGER', { generated_timestamp: 2 ** 53 + 2 }],
  ])('leaves %s to the plausibility checks', (_label, overrides) => {
    expect(exportPageSchema.safeParse({ results: [row(overrides)] }).success).toBe(true);
  });

  test('exportRowSchema alone rejects a row without an id', () => {
    expect(exportRowSchema.safeParse({ generated_timestamp: 1 }).success).toBe(false);
  });
});

describe('describeSchemaError', () => {
  test('gives a readable path and message', () => {
    expect(errorOf({ results: [row({ id: 'x' })] })).toBe('results[0].id: Expected number, received string');
  });

  test('lists at most three issues and counts the rest', () => {
    const results = [1, 2, 3, 4, 5].map((i) => row({ id: String(i) }));
    const parsed = exportPageSchema.safeParse({ results });
    expect(parsed.success).toBe(false);
    const text = describeSchemaError(parsed.error!);
    expect(text.split('; ')).toHaveLength(3);
    expect(text).toMatch(/^results\[0\]\.id: .*; results\[1\]\.id: .*; results\[2\]\.id: .* \(\+2 more\)$/);
  });

  test('respects a custom issue limit', () => {
    const parsed = exportPageSchema.safeParse({ results: [row({ id: 'a' }), row({ id: 'b' })] });
    expect(describeSchemaError(parsed.error!, 1)).toBe('results[0].id: Expected number, received string (+1 more)');
  });
});

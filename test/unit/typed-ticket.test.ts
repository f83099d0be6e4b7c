import { rowFormatOf, typedTicketRows } from '../../src/storage/analyst/typed-ticket';

const full = {
  id: 7,
  generated_timestamp: 1_700_000_000,
  created_at: '2023-11-14T22:13:20Z',
  updated_at: '2023-11-14T22:13:20Z',
  subject: 'Printer on fire',
  status: 'open',
  priority: 'high',
  type: 'incident',
  requester_id: 11,
  assignee_id: 12,
  group_id: 13,
  via: { channel: 'email' },
  is_public: true,
  tags: ['vip', 'vip', 'billing'],
  custom_fields: [
    { id: 360001, value: 'enterprise' },
    { id: 360002, value: null },
    { id: 360005, value: ['a', 'b'] },
    { id: 360006, value: 42 },
    { id: 360007, value: false },
  ],
};

const exportsRow = {
  id: 7,
  generated_timestamp: 1_700_000_000,
  created_at: '2023-11-14T22:13:20Z',
  updated_at: '2023-11-14T22:13:20Z',
  subject: 'Printer on fire',
  status: 'Deleted',
  priority: 'High',
  ticket_type: 'Incident',
  req_name: 'Ada Lovelace',
  assignee_name: 'Grace Hopper',
  group_name: 'Support',
  organization_name: 'Acme',
  via: 'Mail',
  current_tags: 'vip  billing',
  field_360001: 'Enterprise',
  field_360002: null,
  field_360003: 'ORD-9',
};

describe('typed ticket rows', () => {
  test('the full object fills the typed columns; tags once each; custom fields with a value, as text', () => {
    const { ticket, tags, customFields } = typedTicketRows(full);
    expect(ticket).toMatchObject({
      id: 7,
      created_at: '2023-11-14T22:13:20.000Z',
      status: 'open',
      priority: 'high',
      type: 'incident',
      requester_id: 11,
      assignee_id: 12,
      group_id: 13,
      via_channel: 'email',
      is_public: true,
      is_deleted: false,
      group_name: null,
      via_name: null,
      row_format: 'full',
    });
    expect(tags).toEqual(['vip', 'billing']);
    expect(customFields).toEqual([
      { field_id: 360001, value: 'enterprise' },
      { field_id: 360005, value: '["a","b"]' },
      { field_id: 360006, value: '42' },
      { field_id: 360007, value: 'false' },
    ]);
  });

  test('the exports row: lowercased enums, names in *_name columns, tags split, field_<id> values', () => {
    const { ticket, tags, customFields } = typedTicketRows(exportsRow);
    expect(rowFormatOf(exportsRow)).toBe('exports');
    expect(ticket).toMatchObject({
      status: 'deleted',
      is_deleted: true,
      priority: 'high',
      type: 'incident',
      requester_id: null,
      requester_name: 'Ada Lovelace',
      assignee_name: 'Grace Hopper',
      group_name: 'Support',
      organization_name: 'Acme',
      via_channel: null,
      via_name: 'Mail',
      row_format: 'exports',
    });
    expect(tags).toEqual(['vip', 'billing']);
    expect(customFields).toEqual([
      { field_id: 360001, value: 'Enterprise' },
      { field_id: 360003, value: 'ORD-9' },
    ]);
  });

  test('values of the wrong kind become null instead of failing the page; text both databases can hold', () => {
    const { ticket, tags } = typedTicketRows({
      id: 8,
      generated_timestamp: 1,
      assignee_id: '12',
      group_id: 1.5,
      organization_id: -3,
      is_public: 'yes',
      due_at: '2024-02-30T00:00:00Z',
      subject: 'nul\0 and lone \ud800 surrogate',
      tags: ['ok', 3, null, ''],
    });
    expect(ticket).toMatchObject({
      assignee_id: null,
      group_id: null,
      organization_id: null,
      is_public: null,
      due_at: null,
      subject: 'nul\ufffd and lone \ufffd surrogate',
    });
    expect(tags).toEqual(['ok']);
  });
});

import Database from 'better-sqlite3';
import { Client } from 'pg';
import {
  DocumentedTable,
  documentedTables,
  endpointTableColumns,
  storedTables,
  taggedBlocks,
} from '../helpers/query-docs';
import { fillBothSinks, FilledSinks } from '../helpers/analyst-sinks';

// docs/query.md against both sinks: its reference lists exactly the analysts' tables and views and their columns and
// types (nothing undocumented, nothing documented that is missing), and every example query runs on a filled sink
// and returns rows.

const documented = documentedTables();

let sinks: FilledSinks;
let sqlite: Database.Database;
let postgres: Client;

beforeAll(async () => {
  sinks = await fillBothSinks();
  sqlite = new Database(sinks.sqliteFile, { readonly: true });
  postgres = new Client({ connectionString: sinks.postgresUrl });
  await postgres.connect();
}, 120_000);

afterAll(async () => {
  sqlite?.close();
  await postgres?.end();
  await sinks?.cleanUp();
});

const names = (tables: { name: string }[]) => tables.map((t) => t.name).sort();
const columnsOf = (table: DocumentedTable, sink: 'sqlite' | 'postgres') =>
  table.columns.filter((c) => c.types[sink] !== undefined);

test('the reference parses: every table has columns, every column a type in some sink', () => {
  expect(documented.length).toBeGreaterThan(0);
  for (const table of documented) {
    expect({ table: table.name, columns: table.columns.length > 0 }).toEqual({ table: table.name, columns: true });
    for (const column of table.columns) {
      expect(column.types.sqlite ?? column.types.postgres).toBeDefined();
    }
  }
});

test('the endpoint table says where every ticket column comes from, once', () => {
  const ticket = documented.find((t) => t.name === 'ticket')!;
  const own = ticket.columns.map((c) => c.name).filter((name) => name !== 'account' && name !== 'stored_at');
  expect([...endpointTableColumns()].sort()).toEqual(own.sort());
});

describe('SQLite', () => {
  const objects = () =>
    sqlite
      .prepare(`SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'`)
      .all() as { name: string; type: string }[];

  test('the file holds the documented tables and views and the stored tables of docs/operations.md, nothing else', () => {
    const stored = storedTables();
    expect(stored).toContain('ticket_version');
    const expected = [...new Set([...names(documented), ...stored])].sort();
    expect(names(objects())).toEqual(expected);
  });

  test.each(documented.map((t) => [t.name, t] as const))('%s: the documented columns and types', (name, table) => {
    const actual = sqlite.prepare(`PRAGMA table_info("${name}")`).all() as { name: string; type: string }[];
    const expected = columnsOf(table, 'sqlite');
    expect(actual.map((c) => c.name).sort()).toEqual(expected.map((c) => c.name).sort());
    for (const column of expected) {
      const declared = actual.find((c) => c.name === column.name)?.type ?? '';
      const type = column.types.sqlite!;
      if (declared !== '') {
        expect({ column: column.name, declared }).toEqual({ column: column.name, declared: type });
      } else {
        // A view's computed column declares no type: every stored value must be of the documented one.
        const kinds = (
          sqlite.prepare(`SELECT DISTINCT typeof("${column.name}") AS kind FROM "${name}"`).all() as { kind: string }[]
        ).map((row) => row.kind);
        const unexpected = kinds.filter((kind) => kind !== 'null' && kind !== type.toLowerCase());
        expect({ column: column.name, unexpected }).toEqual({ column: column.name, unexpected: [] });
      }
    }
  });
});

describe('PostgreSQL', () => {
  const POSTGRES_TYPES: Record<string, string> = {
    BIGINT: 'bigint',
    TEXT: 'text',
    BOOLEAN: 'boolean',
    TIMESTAMPTZ: 'timestamp with time zone',
    JSONB: 'jsonb',
  };

  test('the schema zendesk holds exactly the documented tables and views; the others are in public', async () => {
    const { rows } = await postgres.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'zendesk'`,
    );
    expect(names(rows)).toEqual(names(documented.filter((t) => t.postgresSchema === 'zendesk')));
    for (const table of documented.filter((t) => t.postgresSchema === 'public')) {
      const found = await postgres.query(
        `SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name = $1`,
        [table.name],
      );
      expect({ table: table.name, found: found.rowCount }).toEqual({ table: table.name, found: 1 });
    }
  });

  test.each(documented.map((t) => [t.name, t] as const))(
    '%s: the documented columns and types',
    async (name, table) => {
      const { rows } = await postgres.query<{ name: string; type: string }>(
        `SELECT column_name AS name, data_type AS type FROM information_schema.columns
       WHERE table_schema = $1 AND table_name = $2`,
        [table.postgresSchema, name],
      );
      const expected = columnsOf(table, 'postgres');
      expect(rows.map((c) => c.name).sort()).toEqual(expected.map((c) => c.name).sort());
      for (const column of expected) {
        const actual = rows.find((c) => c.name === column.name)?.type;
        expect({ column: column.name, type: actual }).toEqual({
          column: column.name,
          type: POSTGRES_TYPES[column.types.postgres!] ?? `unknown documented type ${column.types.postgres}`,
        });
      }
    },
  );
});

describe('the examples', () => {
  const examples = taggedBlocks('query');

  test('there are examples for both sinks, and no other tag', () => {
    expect(new Set(examples.map((e) => e.value))).toEqual(new Set(['sqlite', 'postgres']));
  });

  const run: Record<string, (sql: string) => Promise<Record<string, unknown>[]>> = {
    sqlite: async (sql) => sqlite.prepare(sql).all() as Record<string, unknown>[],
    postgres: async (sql) => (await postgres.query(sql)).rows,
  };

  test.each(examples.map((e, i) => [`${e.value} #${i + 1}: ${e.code.split('\n')[0]}`, e] as const))(
    '%s runs and returns rows',
    async (_title, example) => {
      const rows = await run[example.value](example.code);
      expect(rows.length).toBeGreaterThan(0);
      // Every example's first column is a value the data has (a group, a median, a tag, a time…).
      expect(rows.map((row) => Object.values(row)[0]).filter((value) => value === null)).toEqual([]);
    },
  );
});

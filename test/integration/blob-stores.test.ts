import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient, Pool } from 'pg';
import { BlobStore, SqliteBlobStore } from '../../src/codec/blob-store';
import { CLAIM_CHECK_ENCODING, createDataConverter } from '../../src/codec/claim-check';
import { openBlobStore } from '../../src/codec/open-blob-store';
import { PostgresBlobStore } from '../../src/codec/postgres-blob-store';
import { migrateSchema, POSTGRES_SCHEMA_VERSION, PostgresSink } from '../../src/storage/postgres';
import { silentServer } from '../helpers/tcp';
import { testPostgresUrl } from '../helpers/prerequisites';

// The machine's PostgreSQL (trust auth). These tests never skip: a server that cannot be reached fails them.
const POSTGRES_URL = testPostgresUrl();
const SCHEMA_VERSIONS = Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1);
const HISTORY_LIMIT = 256 * 1024;
const DAY = 24 * 60 * 60 * 1000;
const T0 = Date.parse('2025-01-01T00:00:00Z');

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const wireBytes = (payload: Payload) => Buffer.from(temporal.api.common.v1.Payload.encode(payload).finish());

async function encodeChain(codecs: PayloadCodec[], payload: Payload): Promise<Payload> {
  for (const codec of codecs) [payload] = await codec.encode([payload]);
  return payload;
}

async function decodeChain(codecs: PayloadCodec[], payload: Payload): Promise<Payload> {
  for (const codec of [...codecs].reverse()) [payload] = await codec.decode([payload]);
  return payload;
}

const bytesOf = async (store: BlobStore, id: string) => {
  const data = await store.get(id);
  return data && Buffer.from(data);
};

const tmpDir = fs.mkdtempSync(path.join(process.env.TEST_TMP_DIR ?? os.tmpdir(), 'zte-blob-stores-'));

// Throw-away databases, one per need of this file, dropped at the end: the shared `test` database is left alone.
let admin: Promise<PgClient> | undefined;
const databases: string[] = [];

async function connectAdmin(): Promise<PgClient> {
  const client = new PgClient({ connectionString: POSTGRES_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`PostgreSQL at ${POSTGRES_URL} is unreachable: ${(err as Error).message}`);
  }
  return client;
}

async function scratchDatabase(): Promise<string> {
  admin ??= connectAdmin();
  const name = `zte_blobs_${randomUUID().replace(/-/g, '')}`;
  await (await admin).query(`CREATE DATABASE ${name}`);
  databases.push(name);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function schemaVersions(url: string): Promise<{ version: number; rows: number }[]> {
  const db = new PgClient({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query<{ version: number; rows: number }>(
      'SELECT version, COUNT(*)::int AS rows FROM schema_migrations GROUP BY version ORDER BY version',
    );
    return rows;
  } finally {
    await db.end();
  }
}

afterAll(async () => {
  const client = await admin?.catch(() => undefined);
  if (client) {
    // No FORCE: pool.end() resolves before the server has closed the sessions, and killing one of those makes the
    // sink's pool emit an unhandled 'error'. A plain DROP waits (up to 5 s) for them to go.
    for (const name of databases) await client.query(`DROP DATABASE IF EXISTS ${name}`);
    await client.end();
  }
  fs.rmSync(tmpDir, { recursive: true, force: true });
});

interface Backend {
  /** Makes the next `open` start from an empty store. */
  reset(): Promise<void>;
  /** Another `open` without a reset reaches the same blobs, like a second worker would. */
  open(now?: () => number): Promise<BlobStore>;
}

function sqliteBackend(): Backend {
  let filename = '';
  return {
    async reset() {
      filename = path.join(tmpDir, `tickets-${randomUUID()}.db`);
    },
    async open(now) {
      return new SqliteBlobStore(filename, { now });
    },
  };
}

function postgresBackend(): Backend {
  let url: Promise<string> | undefined;
  return {
    async reset() {
      url ??= scratchDatabase();
      const pool = new Pool({ connectionString: await url, max: 1 });
      try {
        await migrateSchema(pool);
        await pool.query('TRUNCATE payload_blobs');
      } finally {
        await pool.end();
      }
    },
    async open(now) {
      return PostgresBlobStore.open(await url!, { now });
    },
  };
}

const backends: [string, Backend][] = [
  ['SQLite', sqliteBackend()],
  ['PostgreSQL', postgresBackend()],
];

describe.each(backends)('the %s blob store', (_name, backend) => {
  let store: BlobStore;
  let now: number;
  const A = 'a'.repeat(64);
  const B = 'b'.repeat(64);
  const C = 'c'.repeat(64);

  beforeEach(async () => {
    now = T0;
    await backend.reset();
    store = await backend.open(() => now);
  });
  afterEach(async () => store?.close());

  test('a 1 MB random blob round-trips byte for byte', async () => {
    const backing = randomBytes(1024 * 1024 + 16);
    // A view into a bigger buffer: only its own bytes may be stored.
    const data = new Uint8Array(backing.buffer, backing.byteOffset + 8, 1024 * 1024);
    const id = sha256(data);
    await store.put(id, data);
    const stored = await store.get(id);
    expect(stored).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(stored!).equals(data)).toBe(true);
  });

  test('a blob survives closing and reopening the store; close twice is harmless', async () => {
    const data = randomBytes(100_000);
    await store.put(A, data);
    await store.close();
    await store.close();
    store = await backend.open();
    expect((await bytesOf(store, A))!.equals(data)).toBe(true);
  });

  test('put is idempotent: the same id twice keeps one blob', async () => {
    const data = randomBytes(1000);
    await store.put(A, data);
    await store.put(A, data);
    expect((await bytesOf(store, A))!.equals(data)).toBe(true);
    expect(await store.deleteOlderThan(new Date(T0 + DAY))).toBe(1);
  });

  test('a repeated put refreshes created_at, and never moves it back', async () => {
    await store.put(A, Buffer.from('referenced again later'));
    now = T0 + 2 * DAY;
    await store.put(A, Buffer.from('referenced again later'));
    expect(await store.deleteOlderThan(new Date(T0 + DAY))).toBe(0);

    now = T0; // a put with an older clock (another worker's) keeps the newer age
    await store.put(A, Buffer.from('referenced again later'));
    expect(await store.deleteOlderThan(new Date(T0 + 2 * DAY))).toBe(0);
    expect(await store.deleteOlderThan(new Date(T0 + 2 * DAY + 1))).toBe(1);
  });

  test('deleteOlderThan without keep deletes what was created before the cutoff and returns how many', async () => {
    await store.put(A, Buffer.from('old'));
    await store.put(B, Buffer.from('old too'));
    now = T0 + 2 * DAY;
    await store.put(C, Buffer.from('new'));

    expect(await store.deleteOlderThan(new Date(T0 + DAY))).toBe(2);
    expect(await store.get(A)).toBeUndefined();
    expect(await store.get(B)).toBeUndefined();
    expect((await bytesOf(store, C))!.toString()).toBe('new');
    expect(await store.deleteOlderThan(new Date(T0 + DAY))).toBe(0);
    // The cutoff itself is not older than the cutoff.
    expect(await store.deleteOlderThan(new Date(T0 + 2 * DAY))).toBe(0);
  });

  test('deleteOlderThan with keep spares the kept ids', async () => {
    for (const id of [A, B, C]) await store.put(id, Buffer.from(id));
    const keep = new Set([B, 'f'.repeat(64)]);

    expect(await store.deleteOlderThan(new Date(T0 + DAY), keep)).toBe(2);
    expect(await store.get(A)).toBeUndefined();
    expect((await bytesOf(store, B))!.toString()).toBe(B);
    expect(await store.get(C)).toBeUndefined();
    expect(await store.deleteOlderThan(new Date(T0 + DAY), new Set())).toBe(1);
  });

  test('get of a missing id is undefined', async () => {
    expect(await store.get('0'.repeat(64))).toBeUndefined();
    await store.put(A, Buffer.from('x'));
    await store.deleteOlderThan(new Date(T0 + DAY));
    expect(await store.get(A)).toBeUndefined();
  });

  test('the claim-check data converter stores a payload still above 256 KiB after gzip; another store decodes it', async () => {
    const payload: Payload = {
      metadata: { encoding: new TextEncoder().encode('binary/plain') },
      data: randomBytes(600_000),
    };
    const encoder = createDataConverter(store).payloadCodecs!;
    const [gzipped] = await encoder[0].encode([payload]);
    expect(wireBytes(gzipped).length).toBeGreaterThan(HISTORY_LIMIT);

    const encoded = await encodeChain(encoder, payload);
    expect(new TextDecoder().decode(encoded.metadata!.encoding)).toBe(CLAIM_CHECK_ENCODING);
    expect(wireBytes(encoded).length).toBeLessThan(200);
    const { id } = JSON.parse(Buffer.from(encoded.data!).toString());
    expect(sha256((await store.get(id))!)).toBe(id);

    const other = await backend.open();
    try {
      const decoded = await decodeChain(createDataConverter(other).payloadCodecs!, encoded);
      expect(wireBytes(decoded).equals(wireBytes(payload))).toBe(true);
    } finally {
      await other.close();
    }
  });
});

describe('the PostgreSQL blob store and the sink share one schema history', () => {
  test('migrations applied concurrently (two opens at once) and again leave one row per version', async () => {
    const url = await scratchDatabase();
    const [a, b] = await Promise.all([PostgresBlobStore.open(url), PostgresBlobStore.open(url)]);
    const again = await PostgresBlobStore.open(url);
    const pool = new Pool({ connectionString: url, max: 1 });
    try {
      expect(await migrateSchema(pool)).toBe(0);
      expect(await schemaVersions(url)).toEqual(SCHEMA_VERSIONS.map((version) => ({ version, rows: 1 })));
      await a.put('a'.repeat(64), Buffer.from('from a'));
      expect(Buffer.from((await b.get('a'.repeat(64)))!).toString()).toBe('from a');
    } finally {
      await Promise.all([a.close(), b.close(), again.close(), pool.end()]);
    }
  });

  test.each(['the store first', 'the sink first', 'both at once'])('opened with %s, both work', async (order) => {
    const url = await scratchDatabase();
    let store: PostgresBlobStore;
    let sink: PostgresSink;
    if (order === 'the store first') {
      store = await PostgresBlobStore.open(url);
      sink = await PostgresSink.open(url);
    } else if (order === 'the sink first') {
      sink = await PostgresSink.open(url);
      store = await PostgresBlobStore.open(url);
    } else {
      [store, sink] = await Promise.all([PostgresBlobStore.open(url), PostgresSink.open(url)]);
    }
    try {
      expect(await sink.migrate()).toBe(0);
      expect(await schemaVersions(url)).toEqual(SCHEMA_VERSIONS.map((version) => ({ version, rows: 1 })));
      await sink.persistPage({ account: 'x', rows: [{ id: 1, generated_timestamp: 1 }], fieldHeaders: {}, cursor: 1 });
      expect(await sink.countTickets('x')).toBe(1);
      const data = randomBytes(300_000);
      await store.put(sha256(data), data);
      expect(Buffer.from((await store.get(sha256(data)))!).equals(data)).toBe(true);
    } finally {
      await Promise.all([store.close(), sink.close()]);
    }
  });
});

describe('the PostgreSQL blob store has time limits', () => {
  test('a server that accepts the connection and never answers fails the open within 10 s by default', async () => {
    const server = await silentServer();
    const started = Date.now();
    try {
      await expect(PostgresBlobStore.open(`postgres://exporter@127.0.0.1:${server.port}/tickets`)).rejects.toThrow(
        'PostgreSQL did not accept the connection within 10 s (SINK_CONNECT_TIMEOUT_SECONDS)',
      );
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await server.close();
    }
  }, 20_000);

  test('a put blocked on a lock fails within the statement timeout and gives its connection back', async () => {
    const url = await scratchDatabase();
    const store = await PostgresBlobStore.open(url, { timeouts: { statementSeconds: 1 } });
    const db = new PgClient({ connectionString: url });
    await db.connect();
    try {
      await db.query('BEGIN');
      await db.query('LOCK TABLE payload_blobs IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      // Three puts on a pool of two: each waits for the lock, times out, and gives its connection back.
      const puts = ['a', 'b', 'c'].map((c) =>
        store.put(c.repeat(64), Buffer.from(c)).then(
          () => 'stored',
          (e) => e,
        ),
      );
      for (const outcome of await Promise.all(puts)) expect(outcome).toMatchObject({ code: '57014' });
      expect(Date.now() - started).toBeLessThan(8_000);
      await db.query('ROLLBACK');
      await store.put('d'.repeat(64), Buffer.from('d'));
      expect(Buffer.from((await store.get('d'.repeat(64)))!).toString()).toBe('d');
    } finally {
      await db.end();
      await store.close();
    }
  }, 20_000);
});

describe('openBlobStore', () => {
  test('a sqlite: SINK_URL gives a SQLite store on the sink file', async () => {
    const filename = path.join(tmpDir, `sink-${randomUUID()}.db`);
    const store = await openBlobStore(`sqlite:${filename}`);
    try {
      expect(store).toBeInstanceOf(SqliteBlobStore);
      expect((store as SqliteBlobStore).filename).toBe(filename);
    } finally {
      await store.close();
    }
  });

  test('postgres:// and postgresql:// give a PostgreSQL store; another scheme is refused', async () => {
    const url = await scratchDatabase();
    for (const sinkUrl of [url, url.replace(/^postgres:/, 'postgresql:')]) {
      const store = await openBlobStore(sinkUrl);
      try {
        expect(store).toBeInstanceOf(PostgresBlobStore);
        await store.put('e'.repeat(64), Buffer.from('shared'));
        expect(Buffer.from((await store.get('e'.repeat(64)))!).toString()).toBe('shared');
      } finally {
        await store.close();
      }
    }
    await expect(openBlobStore('mysql://db/x')).rejects.toThrow(/unknown scheme in "mysql:"/);
  });
});

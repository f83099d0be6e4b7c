import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteBlobStore } from '../../src/codec/blob-store';
import { encryptionKey, EncryptionCodec } from '../../src/codec/encryption-codec';
import { INLINE_PAGE_MAX_BYTES, MAX_DECODED_PAYLOAD_BYTES, MAX_STAGED_PAGE_BYTES } from '../../src/codec/limits';
import { PageStaging, StagedPageGoneError } from '../../src/codec/staged-pages';
import { MAX_RESPONSE_BYTES } from '../../src/zendesk/limits';

/** The claim-check threshold of the codec chain (claim-check.ts): a history payload above it goes to the blob store. */
const CLAIM_CHECK_THRESHOLD = 256 * 1024;

describe('the limits fit together', () => {
  test('whatever the client accepts can be staged; nothing that stays in the history comes near a limit', () => {
    expect(MAX_STAGED_PAGE_BYTES).toBeGreaterThanOrEqual(MAX_RESPONSE_BYTES);
    // gzip grows incompressible data by at most 0.1% plus a header; encryption adds a nonce, a tag and the metadata.
    expect(INLINE_PAGE_MAX_BYTES * 1.001 + 1024).toBeLessThan(CLAIM_CHECK_THRESHOLD);
    expect(CLAIM_CHECK_THRESHOLD).toBeLessThan(MAX_DECODED_PAYLOAD_BYTES);
  });
});

describe('a staged page', () => {
  let dir: string;
  let store: SqliteBlobStore;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-staging-'));
    store = new SqliteBlobStore(path.join(dir, 'blobs.db'));
  });
  afterAll(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a 40 MB page (above the 32 MiB a history payload decodes to) goes in encrypted and comes back whole', async () => {
    const encryption = new EncryptionCodec({ current: encryptionKey(Buffer.alloc(32, 3)) });
    const staging = new PageStaging(store, encryption);
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      id: i + 1,
      generated_timestamp: 1,
      notes: 'n'.repeat(40_000),
    }));
    const json = JSON.stringify({ rows, fieldHeaders: {} });
    expect(json.length).toBeGreaterThan(MAX_DECODED_PAYLOAD_BYTES);
    const { staged, bytes } = await staging.stage(json);
    const blob = Buffer.from((await store.get(staged))!);
    expect(blob.byteLength).toBe(bytes);
    expect(blob.includes(Buffer.from('nnnnnnnn'))).toBe(false); // ciphertext, not the tickets
    expect(await staging.load(staged)).toEqual({ rows, fieldHeaders: {} });
    // Without the key, the page does not come back.
    await expect(new PageStaging(store).load(staged)).rejects.toThrow(/not JSON|does not have/);
  });

  test('a page gone from the store is named as gone, so the workflow fetches it again', async () => {
    await expect(new PageStaging(store).load('0'.repeat(64))).rejects.toBeInstanceOf(StagedPageGoneError);
  });

  test('a page above the staging limit is refused with the sizes', async () => {
    const staging = new PageStaging(store);
    await expect(staging.stage('x'.repeat(MAX_STAGED_PAGE_BYTES + 1))).rejects.toThrow(
      new RegExp(`${MAX_STAGED_PAGE_BYTES + 1} bytes of JSON is above the ${MAX_STAGED_PAGE_BYTES}`),
    );
  });
});

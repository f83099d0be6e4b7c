import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import { decodeFromPayloadsAtIndex, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { dataConverter } from '../../src/codec/data-converter';
import {
  SEARCH_ATTRIBUTE_KEYS,
  workflowIdFor,
  ZENDESK_ACCOUNT,
  ZENDESK_CURSOR,
  ZENDESK_PAUSED,
  ZENDESK_STATE,
} from '../../src/shared';
import type { ExportInput } from '../../src/workflows/messages';
import { runCliCaptured } from '../helpers/cli';
import { spawnWorkerProcess, testEnv, waitFor, type WorkerProcess } from '../helpers/harness';

const { IndexedValueType } = temporal.api.enums.v1;
const THE_FIRST_THREE = [ZENDESK_ACCOUNT, ZENDESK_CURSOR, ZENDESK_PAUSED];

function createCommand(namespace: string, name: string, type: string): string {
  return `temporal operator search-attribute create --namespace ${namespace} --name ${name} --type ${type}`;
}

describe('search attributes of the namespace', () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await Connection.connect({ address: testEnv().address });
  });
  afterAll(async () => connection?.close());

  async function customAttributes(namespace: string): Promise<Record<string, number>> {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    return (customAttributes ?? {}) as Record<string, number>;
  }

  /** A new namespace on the test server with only `keys` registered (the dev server's own are in `default`). */
  async function freshNamespace(keys: SearchAttributeKey<SearchAttributeType>[] = []): Promise<string> {
    const namespace = `sa-${randomUUID().slice(0, 8)}`;
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    await waitFor(`namespace ${namespace}`, () => connection.workflowService.describeNamespace({ namespace }));
    if (keys.length > 0) {
      const searchAttributes = Object.fromEntries(
        keys.map((key) => [key.name, IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]]),
      );
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
      await waitFor('the search attributes to show', async () => {
        const registered = await customAttributes(namespace);
        return keys.every((key) => key.name in registered);
      });
    }
    return namespace;
  }

  function cliEnv(namespace: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      ZENDESK_SUBDOMAIN: `acme-${randomUUID().slice(0, 8)}`,
      TEMPORAL_ADDRESS: testEnv().address,
      TEMPORAL_NAMESPACE: namespace,
      TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
      ...extra,
    };
  }

  async function startedInput(client: Client, workflowId: string): Promise<ExportInput> {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
    return decodeFromPayloadsAtIndex<ExportInput>(loadDataConverter(dataConverter), 0, payloads);
  }

  test('start on a loopback server registers the four in a namespace without them, then starts', async () => {
    const namespace = await freshNamespace();
    const env = cliEnv(namespace);
    const result = await runCliCaptured(['start', '--start-time', '0'], env);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toContain(
      `Registered the search attributes ZendeskAccount, ZendeskCursor, ZendeskPaused, ZendeskState in namespace ${namespace}.`,
    );
    expect(await customAttributes(namespace)).toEqual({
      ZendeskAccount: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ZendeskCursor: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
      ZendeskPaused: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
      ZendeskState: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    });
    const client = new Client({ connection, namespace });
    const workflowId = workflowIdFor(env.ZENDESK_SUBDOMAIN);
    const description = await client.workflow.getHandle(workflowId).describe();
    expect(description.typedSearchAttributes.get(ZENDESK_ACCOUNT)).toBe(env.ZENDESK_SUBDOMAIN);
    expect(description.typedSearchAttributes.get(ZENDESK_STATE)).toBe('catching_up');
    expect((await startedInput(client, workflowId)).stateSearchAttribute).not.toBe(false);
    // Registered once: a second start finds them all and says nothing about them.
    const again = await runCliCaptured(['start'], env);
    expect(again).toMatchObject({ code: 0, err: '' });
    expect(again.out).toMatch(/already running/);
    expect(again.out).not.toMatch(/Registered/);
    await client.workflow.getHandle(workflowId).terminate('test finished');
  });

  test('only the first three and no registration: start warns with the ZendeskState command, starts without it', async () => {
    const namespace = await freshNamespace(THE_FIRST_THREE);
    const env = cliEnv(namespace, { TEMPORAL_REGISTER_SEARCH_ATTRIBUTES: 'false' });
    const result = await runCliCaptured(['start', '--start-time', '0'], env);
    expect(result.code).toBe(0);
    expect(result.err).toContain(`\n  ${createCommand(namespace, 'ZendeskState', 'Keyword')}`);
    expect(result.err).toMatch(/status filters by ZendeskState will not work until it is registered/);
    expect(result.err).not.toMatch(/ZendeskAccount|ZendeskCursor|ZendeskPaused/);
    expect(result.out).toMatch(/Started zendesk-export-acme-/);
    const client = new Client({ connection, namespace });
    const workflowId = workflowIdFor(env.ZENDESK_SUBDOMAIN);
    expect(await startedInput(client, workflowId)).toMatchObject({ stateSearchAttribute: false });
    const description = await client.workflow.getHandle(workflowId).describe();
    expect(description.typedSearchAttributes.get(ZENDESK_ACCOUNT)).toBe(env.ZENDESK_SUBDOMAIN);
    expect(Object.keys(await customAttributes(namespace)).sort()).toEqual(THE_FIRST_THREE.map((k) => k.name).sort());
    await client.workflow.getHandle(workflowId).terminate('test finished');
  });

  test('without ZendeskAccount and no registration: start exits 2 naming the commands, starts nothing', async () => {
    const namespace = await freshNamespace([ZENDESK_CURSOR, ZENDESK_PAUSED]);
    const env = cliEnv(namespace, { TEMPORAL_REGISTER_SEARCH_ATTRIBUTES: 'false' });
    const result = await runCliCaptured(['start', '--start-time', '0'], env);
    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(result.err).toMatch(new RegExp(`namespace ${namespace} lacks the search attributes ZendeskAccount`));
    for (const [name, type] of [
      ['ZendeskAccount', 'Keyword'],
      ['ZendeskState', 'Keyword'],
    ]) {
      expect(result.err).toContain(`\n  ${createCommand(namespace, name, type)}`);
    }
    expect(result.err).not.toContain('--name ZendeskCursor');
    const handle = new Client({ connection, namespace }).workflow.getHandle(workflowIdFor(env.ZENDESK_SUBDOMAIN));
    await expect(handle.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect(Object.keys(await customAttributes(namespace)).sort()).toEqual(['ZendeskCursor', 'ZendeskPaused']);
  });

  test('a bad TEMPORAL_REGISTER_SEARCH_ATTRIBUTES is a configuration error (exit 2)', async () => {
    const result = await runCliCaptured(['start'], cliEnv('default', { TEMPORAL_REGISTER_SEARCH_ATTRIBUTES: 'maybe' }));
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/TEMPORAL_REGISTER_SEARCH_ATTRIBUTES: must be true or false, got "maybe"/);
  });

  test("CLI errors carry the server's reason, not only the SDK's summary", async () => {
    // The server refuses a workflow id over 1,000 characters: the start itself fails, after the search attributes.
    const tooLong = await runCliCaptured(['start'], { ...cliEnv('default'), ZENDESK_SUBDOMAIN: 'a'.repeat(1000) });
    expect(tooLong.code).toBe(1);
    expect(tooLong.err).toBe('start failed: Failed to start Workflow: WorkflowId length exceeds limit.');
    const missing = `missing-${randomUUID().slice(0, 8)}`;
    const noNamespace = await runCliCaptured(['start'], cliEnv(missing));
    expect(noNamespace.code).toBe(1);
    expect(noNamespace.err).toMatch(new RegExp(`^start failed: .*Namespace ${missing} is not found\\.$`));
  });

  describe('the worker process at start', () => {
    let worker: WorkerProcess | undefined;
    afterEach(async () => {
      if (worker && worker.child.exitCode === null) {
        worker.child.kill('SIGTERM');
        await worker.exited;
      }
      worker = undefined;
    });

    function spawnIn(namespace: string, extra: Record<string, string> = {}): WorkerProcess {
      return spawnWorkerProcess({
        ZENDESK_SUBDOMAIN: 'acme',
        ZENDESK_EMAIL: 'ops@acme.test',
        ZENDESK_API_TOKEN: 'tok-worker-sa',
        SINK_URL: `sqlite:${path.join(testEnv().tmpDir, `${randomUUID()}.db`)}`,
        TEMPORAL_NAMESPACE: namespace,
        TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
        ...extra,
      });
    }

    /** 'ready' once the worker logged that it runs, or its exit code. */
    async function outcome(w: WorkerProcess): Promise<number | null | 'ready'> {
      const isReady = () => w.output().includes('Worker ready');
      await waitFor('the worker to be ready or to exit', () => isReady() || w.child.exitCode !== null);
      return isReady() ? 'ready' : w.exited;
    }

    test('registers the missing ones on the loopback server, then runs', async () => {
      const namespace = await freshNamespace([ZENDESK_ACCOUNT]);
      worker = spawnIn(namespace);
      expect(await outcome(worker)).toBe('ready');
      expect(Object.keys(await customAttributes(namespace)).sort()).toEqual(
        SEARCH_ATTRIBUTE_KEYS.map((k) => k.name).sort(),
      );
      expect(worker.output()).toMatch(/Registered the search attributes ZendeskCursor, ZendeskPaused, ZendeskState/);
    });

    test('only ZendeskState missing and no registration: a warning with the command, then runs', async () => {
      const namespace = await freshNamespace(THE_FIRST_THREE);
      worker = spawnIn(namespace, { TEMPORAL_REGISTER_SEARCH_ATTRIBUTES: 'false' });
      expect(await outcome(worker)).toBe('ready');
      expect(worker.output()).toMatch(/WARN.*ZendeskState/);
      expect(worker.output()).toContain(createCommand(namespace, 'ZendeskState', 'Keyword'));
    });

    test('one of the first three missing and no registration: exit 2 with the commands', async () => {
      const namespace = await freshNamespace([ZENDESK_ACCOUNT, ZENDESK_STATE]);
      worker = spawnIn(namespace, { TEMPORAL_REGISTER_SEARCH_ATTRIBUTES: 'false' });
      expect(await outcome(worker)).toBe(2);
      expect(worker.output()).toContain(createCommand(namespace, 'ZendeskCursor', 'Datetime'));
      expect(worker.output()).toContain(createCommand(namespace, 'ZendeskPaused', 'Bool'));
      expect(worker.output()).not.toContain('Worker ready');
      expect(worker.output()).not.toMatch(/\n\s+at /);
      expect(Object.keys(await customAttributes(namespace)).sort()).toEqual(['ZendeskAccount', 'ZendeskState']);
    });
  });
});

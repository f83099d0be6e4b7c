import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDevServer } from '../src/dev-server';
import { bundleWorkflows } from '../src/temporal/workflow-bundle';

// One dev server and one workflow bundle for the whole run; each test uses its own task queue and account.
export default async function globalSetup(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-test-'));
  const server = await startDevServer({ dbFilename: path.join(dir, 'temporal.db') });
  const code = await bundleWorkflows();
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, code);
  process.env.TEST_TEMPORAL_ADDRESS = server.address;
  process.env.TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.TEST_TMP_DIR = dir;
  (globalThis as { __devServer?: unknown }).__devServer = server;
}

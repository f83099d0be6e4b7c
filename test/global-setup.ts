import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDevServer } from '../src/dev-server';
import { bundleWorkflows } from '../src/temporal/workflow-bundle';
import { findTemporalCli, Prerequisite, requirePrerequisites } from './helpers/prerequisites';

/**
 * For the layers that need it (test/workflow/global-setup.ts, test/integration/global-setup.ts): their prerequisites
 * checked, then one dev server and one workflow bundle for the whole run, started by whichever layer's setup runs
 * first; each test uses its own task queue and account. test/global-teardown.ts stops it.
 */
export async function startTestTemporal(who: string, needs: Prerequisite[] = []): Promise<void> {
  await requirePrerequisites(who, ['temporal-cli', ...needs]);
  // The CLI just found, for src/dev-server.ts (scripts/install-temporal.sh looks at TEMPORAL_CLI_PATH first).
  process.env.TEMPORAL_CLI_PATH = findTemporalCli();
  const shared = globalThis as { __devServer?: unknown };
  if (shared.__devServer) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-test-'));
  const server = await startDevServer({ dbFilename: path.join(dir, 'temporal.db') });
  shared.__devServer = server;
  const code = await bundleWorkflows();
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, code);
  process.env.TEST_TEMPORAL_ADDRESS = server.address;
  process.env.TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.TEST_TMP_DIR = dir;
}

/** The dev server and the bundle alone (npm run record-histories). */
export default async function globalSetup(): Promise<void> {
  await startTestTemporal('test/global-setup.ts');
}

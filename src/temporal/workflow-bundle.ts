import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, BundleOptions } from '@temporalio/worker';
import { PAYLOAD_CONVERTER_PATH } from '../codec/claim-check';

/** What every workflow bundle is made of: the workflows and the payload converter that runs beside them. */
export const WORKFLOW_SOURCES = {
  workflowsPath: require.resolve('../workflows'),
  payloadConverterPath: PAYLOAD_CONVERTER_PATH,
};

const QUIET = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never;

/** The workflow bundle's code, for workers that load a prebuilt bundle (tests, the chaos run, the Docker image). */
export async function bundleWorkflows(options: Partial<BundleOptions> = {}): Promise<string> {
  const { code } = await bundleWorkflowCode({ ...WORKFLOW_SOURCES, logger: QUIET, ...options });
  return code;
}

/** Where `npm run build` writes the bundle of the compiled workflows: lib/workflow-bundle.js. */
export const PREBUILT_BUNDLE_PATH = path.join(__dirname, '..', 'workflow-bundle.js');

/** `npm run build`'s last step: the compiled workflows bundled once, so a worker starts without webpack. */
async function writePrebuiltBundle(): Promise<void> {
  if (!__filename.endsWith('.js')) throw new Error('run this from the compiled lib/, after tsc');
  fs.writeFileSync(PREBUILT_BUNDLE_PATH, await bundleWorkflows());
  console.error(`Workflow bundle: ${path.relative(process.cwd(), PREBUILT_BUNDLE_PATH)}`);
}

if (require.main === module) {
  writePrebuiltBundle().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

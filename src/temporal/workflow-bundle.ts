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

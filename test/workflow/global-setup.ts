import { startTestTemporal } from '../global-setup';

// The workflow layer (npm run test:workflow): the dev server and the workflow bundle; activities are stubs.
export default async function globalSetup(): Promise<void> {
  await startTestTemporal('The workflow layer (test/workflow)');
}

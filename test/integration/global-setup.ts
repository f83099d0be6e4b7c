import { startTestTemporal } from '../global-setup';

// The integration layer (npm run test:integration, test/integration and test/replay): the dev server and the
// workflow bundle, PostgreSQL for the sink tests, Chromium for the Web UI test, initdb for the chaos test's own server.
export default async function globalSetup(): Promise<void> {
  await startTestTemporal('The integration layer (test/integration, test/replay)', ['postgres', 'chromium', 'initdb']);
}

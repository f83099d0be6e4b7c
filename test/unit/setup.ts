// The unit layer uses no services: even when `npm test` runs it beside the layers that start a dev server, its
// tests do not see that server (testEnv() in test/helpers/harness.ts fails here).
for (const name of ['TEST_TEMPORAL_ADDRESS', 'TEST_WORKFLOW_BUNDLE', 'TEST_TMP_DIR']) delete process.env[name];

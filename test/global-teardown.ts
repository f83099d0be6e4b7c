import fs from 'node:fs';
import type { DevServer } from '../src/dev-server';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as { __devServer?: DevServer }).__devServer;
  await server?.stop();
  if (process.env.TEST_TMP_DIR) fs.rmSync(process.env.TEST_TMP_DIR, { recursive: true, force: true });
}

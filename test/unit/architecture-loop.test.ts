import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

test("docs/architecture.md quotes the workflow's loop as the code has it", () => {
  const code = fs.readFileSync(path.join(ROOT, 'src/workflows/ticket-export.ts'), 'utf8');
  const start = code.indexOf('  await run.start();');
  const end = code.indexOf('\n}\n', start);
  expect(start).toBeGreaterThan(0);
  const loop = code
    .slice(start, end)
    .split('\n')
    .map((line) => line.replace(/^ {2}/, ''))
    .join('\n');
  expect(fs.readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8')).toContain('```ts\n' + loop + '\n```');
});

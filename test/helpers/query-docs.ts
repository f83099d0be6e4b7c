import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './prerequisites';

// Reads docs/query.md (and the stored tables' list of docs/operations.md) the way the tests compare them with the
// sinks: the reference's tables and columns, and the tagged example blocks.

export type SinkName = 'sqlite' | 'postgres';

export interface DocumentedColumn {
  name: string;
  /** The type written for each sink; undefined where the doc says the sink has no such column (`—`). */
  types: Partial<Record<SinkName, string>>;
}

export interface DocumentedTable {
  name: string;
  /** PostgreSQL's schema: `public` for a stored table the reference lists, else `zendesk`. */
  postgresSchema: 'zendesk' | 'public';
  columns: DocumentedColumn[];
}

export const QUERY_DOC = path.join(ROOT, 'docs/query.md');

export function readDoc(file = QUERY_DOC): string {
  return fs.readFileSync(file, 'utf8');
}

/** The lines of one `## ` section (without its heading). */
function section(markdown: string, title: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line === `## ${title}`);
  if (start < 0) throw new Error(`no section "## ${title}"`);
  const end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

const cells = (row: string) =>
  row
    .replace(/^\s*\|/, '')
    .replace(/\|\s*$/, '')
    .split('|')
    .map((cell) => cell.trim());
const unquote = (cell: string) => cell.replace(/^`|`$/g, '');

/** The reference's tables: `### \`name\`` headings, each followed by a `| column | SQLite | PostgreSQL | … |` table. */
export function documentedTables(markdown = readDoc()): DocumentedTable[] {
  const tables: DocumentedTable[] = [];
  let current: DocumentedTable | undefined;
  let header: string[] | undefined;
  for (const line of section(markdown, 'Reference')) {
    const heading = /^### `([a-z_]+)`$/.exec(line);
    if (heading) {
      current = { name: heading[1], postgresSchema: 'zendesk', columns: [] };
      header = undefined;
      tables.push(current);
      continue;
    }
    if (!current) continue;
    if (!line.startsWith('|')) {
      if (/schema `public`/.test(line)) current.postgresSchema = 'public';
      continue;
    }
    const row = cells(line);
    if (!header) {
      header = row;
      if (header[0] !== 'column' || header[1] !== 'SQLite' || header[2] !== 'PostgreSQL') {
        throw new Error(`reference table of ${current.name}: header ${line}`);
      }
      continue;
    }
    if (row.every((cell) => /^-+$/.test(cell))) continue;
    const type = (cell: string) => (cell === '—' ? undefined : cell);
    current.columns.push({ name: unquote(row[0]), types: { sqlite: type(row[1]), postgres: type(row[2]) } });
  }
  return tables;
}

/** The `ticket` columns the "Which endpoint fills which ticket column" table names (not its child tables' rows). */
export function endpointTableColumns(markdown = readDoc()): string[] {
  return section(markdown, 'Which endpoint fills which ticket column')
    .map((line) => (line.startsWith('| `') ? cells(line)[0] : ''))
    .filter((cell) => cell !== '' && cell !== '`ticket` column' && !cell.endsWith(' rows'))
    .flatMap((cell) => [...cell.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]));
}

/** The fenced block after each `<!-- <tag>: <value> -->` comment, in the doc's order. */
export function taggedBlocks(tag: string, markdown = readDoc()): { value: string; code: string }[] {
  const blocks: { value: string; code: string }[] = [];
  const pattern = new RegExp(`<!-- ${tag}: ([a-z]+) -->\\s*\`\`\`[a-z]*\\n([\\s\\S]*?)\\n\`\`\``, 'g');
  for (const match of markdown.matchAll(pattern)) blocks.push({ value: match[1], code: match[2] });
  return blocks;
}

/** The stored tables docs/operations.md lists (its "Stored tables" table's first column). */
export function storedTables(): string[] {
  const lines = section(fs.readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8'), 'Production');
  const start = lines.findIndex((line) => line === '### Stored tables');
  const names: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('### ')) break;
    if (!line.startsWith('| `')) continue;
    names.push(...[...cells(line)[0].matchAll(/`([a-z_]+)`/g)].map((m) => m[1]));
  }
  return names;
}

// Every reference the documentation and the code comments make to the repository resolves: relative Markdown links
// (and their #anchors, by GitHub's heading slugs), backticked repository paths in README.md and docs/*.md, and
// repository paths cited in comments of src/, bench/ and test/; and every docs page opens with a contents list of its
// sections. No service needed: the files are read as text.
//
// What counts as a repository path: a token starting with one of REPO_DIRS and a slash, not glued to a URL, an
// absolute path or a package name (so `/usr/bin/chromium`, `https://…/docs/x` and `@scope/pkg/src/x` are not ones).
// Skipped on purpose: a path with a placeholder (`bench/results/<date>-<name>.json`, `{…}`, `…`), a path git
// ignores (generated or local files such as `test/artifacts/` or `deploy/secrets/payload-encryption.key`), a path
// that follows another repository's name (`temporalio/documentation docs/…`), and fenced code blocks (commands,
// output and layout sketches, not references). A glob (`test/replay/histories/1.0.0/chaos-cursor-run-*.json`) must match
// at least one file.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');
const REPO_DIRS = ['src', 'test', 'bench', 'docs', 'deploy', 'scripts', '.ci'];
const REPO_PATH = new RegExp(
  String.raw`(?<![\w./@:~-])(?:${REPO_DIRS.map((d) => d.replace('.', '\\.')).join('|')})/[^\s\`'"()\[\],;|]*`,
  'g',
);
const PLACEHOLDER = /[<>{}$…]|\.\.\./;
const OTHER_REPOSITORY = /(?:^|[\s(])([\w.-]+)\/[\w.-]+\s+$/;

interface Reference {
  /** Where it was found: file and line. */
  from: string;
  /** As written: a path, with an optional #anchor. */
  target: string;
}

/** The headings of a page with their anchors, by GitHub's rule: lower case, punctuation dropped, each space a hyphen,
 * repeats numbered -1, -2… */
function headings(markdown: string): { level: number; line: number; slug: string }[] {
  const found: { level: number; line: number; slug: string }[] = [];
  const seen = new Map<string, number>();
  withoutFencedBlocks(markdown)
    .split('\n')
    .forEach((line, index) => {
      const heading = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
      if (!heading) return;
      const base = heading[2]
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
        .replace(/<[^>]+>/g, '')
        .toLowerCase()
        .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
        .replace(/ /g, '-');
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      found.push({ level: heading[1].length, line: index, slug: count === 0 ? base : `${base}-${count}` });
    });
  return found;
}

const headingSlugs = (markdown: string) => new Set(headings(markdown).map((h) => h.slug));

/** The text with every fenced code block blanked, line numbers kept. */
function withoutFencedBlocks(markdown: string): string {
  let fence: string | undefined;
  return markdown
    .split('\n')
    .map((line) => {
      const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence === undefined && marker) {
        fence = marker;
        return '';
      }
      if (fence !== undefined) {
        if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) {
          fence = undefined;
        }
        return '';
      }
      return line;
    })
    .join('\n');
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** Repository paths in a piece of text (a code span, a comment), each with its offset in the text. */
function repositoryPaths(text: string): { target: string; index: number }[] {
  const found: { target: string; index: number }[] = [];
  for (const match of text.matchAll(REPO_PATH)) {
    const target = match[0].replace(/[.:!?]+$/, '');
    if (PLACEHOLDER.test(target)) continue;
    const before = OTHER_REPOSITORY.exec(text.slice(Math.max(0, match.index - 120), match.index));
    if (before && !REPO_DIRS.includes(before[1])) continue;
    found.push({ target, index: match.index });
  }
  return found;
}

/** Relative links and backticked repository paths of one Markdown file. */
function markdownReferences(file: string, markdown: string): { links: Reference[]; paths: Reference[] } {
  const text = withoutFencedBlocks(markdown);
  const links: Reference[] = [];
  const paths: Reference[] = [];
  const spans: [number, number][] = [];
  for (const span of text.matchAll(/(?<!`)(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g)) {
    spans.push([span.index, span.index + span[0].length]);
    for (const p of repositoryPaths(span[2])) {
      paths.push({ from: `${file}:${lineOf(text, span.index)}`, target: p.target });
    }
  }
  const inSpan = (index: number) => spans.some(([start, end]) => index >= start && index < end);
  const linkPattern =
    /!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)|^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm;
  for (const link of text.matchAll(linkPattern)) {
    const target = link[1] ?? link[2];
    if (inSpan(link.index) || /^[a-z][a-z0-9+.-]*:|^\/\//i.test(target)) continue;
    links.push({ from: `${file}:${lineOf(text, link.index)}`, target });
  }
  return { links, paths };
}

/** Repository paths cited in the comments of one TypeScript file. */
function commentReferences(file: string, source: string): Reference[] {
  const sourceFile = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const comments = new Map<number, number>();
  const collect = (ranges: ts.CommentRange[] | undefined) => ranges?.forEach((r) => comments.set(r.pos, r.end));
  const visit = (node: ts.Node) => {
    collect(ts.getLeadingCommentRanges(source, node.pos));
    collect(ts.getTrailingCommentRanges(source, node.end));
    node.getChildren(sourceFile).forEach(visit);
  };
  visit(sourceFile);
  // The file's comments in place, everything else blanked: code to NUL (so that it separates two comments), the
  // comments' own markers (//, /*, * and */) to spaces (so that a sentence runs on across lines, as it reads).
  const text = source.replace(/\S/g, '\0').split('');
  for (const [pos, end] of comments) {
    const comment = source
      .slice(pos, end)
      .replace(
        /^([ \t]*)(\/\/+|\/\*+|\*+\/?)/gm,
        (_, indent: string, marker: string) => indent + ' '.repeat(marker.length),
      )
      .replace(/\*\/$/, '  ');
    text.splice(pos, end - pos, ...comment);
  }
  const references = repositoryPaths(text.join('')).map((p) => ({
    from: `${file}:${lineOf(source, p.index)}`,
    target: p.target,
  }));
  return references;
}

function globMatches(pattern: string): boolean {
  const toRegExp = (glob: string) =>
    new RegExp(
      '^' +
        glob
          .split(/(\*\*\/?|\*)/)
          .map((part) =>
            part.startsWith('**') ? '.*' : part === '*' ? '[^/]*' : part.replace(/[.+?^()|[\]\\]/g, '\\$&'),
          )
          .join('') +
        '$',
    );
  const staticPart = pattern.slice(0, pattern.indexOf('*')).replace(/[^/]*$/, '');
  const root = path.join(ROOT, staticPart);
  if (!fs.existsSync(root)) return false;
  const matcher = toRegExp(pattern.replace(/\/$/, ''));
  const walk = (dir: string): boolean =>
    fs.readdirSync(dir, { withFileTypes: true }).some((entry) => {
      const relative = path.relative(ROOT, path.join(dir, entry.name));
      return matcher.test(relative) || (entry.isDirectory() && walk(path.join(dir, entry.name)));
    });
  return walk(root);
}

/** Of these repository-relative paths, the ones git ignores (generated or local files). */
function gitIgnored(paths: string[]): Set<string> {
  if (paths.length === 0) return new Set();
  const result = spawnSync('git', ['check-ignore', '--no-index', '--stdin'], {
    cwd: ROOT,
    input: paths.join('\n') + '\n',
    encoding: 'utf8',
  });
  if (result.status !== 0 && result.status !== 1) {
    throw new Error(`git check-ignore failed: ${result.error?.message ?? result.stderr}`);
  }
  return new Set(result.stdout.split('\n').filter(Boolean));
}

/**
 * The references that do not resolve, as "from → target (why)". Paths are relative to the repository, or to
 * baseDirOf(from) (a Markdown link: the page's folder); pages are texts that stand for files (the scanners' own test).
 */
function unresolved(
  references: Reference[],
  {
    baseDirOf = () => '',
    pages = new Map(),
  }: { baseDirOf?: (from: string) => string; pages?: Map<string, string> } = {},
): string[] {
  const exists = (relative: string) => pages.has(relative) || fs.existsSync(path.join(ROOT, relative));
  const slugCache = new Map<string, Set<string>>();
  const slugsOf = (file: string) => {
    if (!slugCache.has(file)) {
      slugCache.set(file, headingSlugs(pages.get(file) ?? fs.readFileSync(path.join(ROOT, file), 'utf8')));
    }
    return slugCache.get(file)!;
  };
  const missing: { reference: Reference; relative: string; why: string }[] = [];
  for (const reference of references) {
    const [rawPath, anchor] = reference.target.split('#', 2);
    const fromFile = reference.from.replace(/:\d+$/, '');
    const relative = rawPath
      ? path.normalize(path.join(baseDirOf(reference.from), decodeURI(rawPath))).replace(/\/$/, '')
      : fromFile;
    if (relative.startsWith('..')) {
      missing.push({ reference, relative, why: 'outside the repository' });
    } else if (relative.includes('*')) {
      if (!globMatches(relative)) missing.push({ reference, relative, why: 'no file matches' });
    } else if (!exists(relative)) {
      missing.push({ reference, relative, why: 'no such file' });
    } else if (anchor !== undefined && relative.endsWith('.md') && !slugsOf(relative).has(anchor)) {
      missing.push({ reference, relative, why: `no heading with the anchor #${anchor}` });
    }
  }
  const ignored = gitIgnored(missing.filter((m) => m.why === 'no such file').map((m) => m.relative));
  return missing
    .filter((m) => !(m.why === 'no such file' && ignored.has(m.relative)))
    .map((m) => `${m.reference.from} → ${m.reference.target} (${m.why})`);
}

function filesUnder(dir: string, suffix: string): string[] {
  const ignored = new Set(['node_modules', 'artifacts', 'histories', 'results']);
  const out: string[] = [];
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(ROOT, relative), { withFileTypes: true })) {
      const child = path.join(relative, entry.name);
      if (entry.isDirectory() && !ignored.has(entry.name)) walk(child);
      else if (entry.isFile() && entry.name.endsWith(suffix)) out.push(child);
    }
  };
  walk(dir);
  return out.sort();
}

const markdownFiles = () => ['README.md', ...filesUnder('docs', '.md')];
const markdownDir = (from: string) => path.dirname(from.replace(/:\d+$/, ''));

describe('references', () => {
  test('every relative link of README.md and docs/*.md resolves, anchors included', () => {
    const links = markdownFiles().flatMap((file) => markdownReferences(file, fs.readFileSync(file, 'utf8')).links);
    expect(links.length).toBeGreaterThan(0);
    expect(unresolved(links, { baseDirOf: markdownDir })).toEqual([]);
  });

  test('every backticked repository path of README.md and docs/*.md exists', () => {
    const paths = markdownFiles().flatMap((file) => markdownReferences(file, fs.readFileSync(file, 'utf8')).paths);
    expect(paths.length).toBeGreaterThan(0);
    expect(unresolved(paths)).toEqual([]);
  });

  test('every repository path cited in a comment of src/, bench/ and test/ exists', () => {
    const files = ['src', 'bench', 'test'].flatMap((dir) => filesUnder(dir, '.ts'));
    const cited = files.flatMap((file) => commentReferences(file, fs.readFileSync(path.join(ROOT, file), 'utf8')));
    expect(cited.length).toBeGreaterThan(0);
    expect(unresolved(cited)).toEqual([]);
  });

  test('every docs page opens with a contents list that links to each of its sections', () => {
    const pages = filesUnder('docs', '.md');
    expect(pages.length).toBeGreaterThan(0);
    const gaps = pages.flatMap((page) => {
      const markdown = fs.readFileSync(path.join(ROOT, page), 'utf8');
      const all = headings(markdown);
      const sections = all.filter((h) => h.level === 2);
      const opening = markdown.split('\n').slice(0, sections[0]?.line ?? 0);
      const listed = new Set([...opening.join('\n').matchAll(/^\s*- \[[^\]]*\]\(#([^)]+)\)/gm)].map((m) => m[1]));
      return [
        ...(all[0]?.level === 1 && all[0].line === 0 ? [] : [`${page}: does not start with a title`]),
        ...sections.filter((h) => !listed.has(h.slug)).map((h) => `${page}: #${h.slug} is not in the contents list`),
      ];
    });
    expect(gaps).toEqual([]);
  });

  test('the scanners find what is broken and leave alone what is not a path', () => {
    const markdown = [
      '# A page',
      '',
      '## Fault matrix, bad input: `secrets`',
      '',
      'See [limits](docs/reliability.md#limits), [nowhere](docs/no-such-page.md), [bad](README.md#no-such-section),',
      '[here](#fault-matrix-bad-input-secrets), [there](#a-page-1), ![shot](docs/web-ui.png), <https://temporal.io>,',
      '[site](https://example.com/src/x.ts), `npx jest test/unit/no-such.test.ts`, `src/workflows/` and `src/nothing/`,',
      '`bench/results/<date>-<name>.json`, `/usr/bin/chromium`, `.data/tickets.db`, `test/artifacts/shot.png`,',
      '`test/replay/histories/1.0.0/chaos-cursor-run-*.json`, `test/replay/histories/nothing-*.json`.',
      '',
      '```sh',
      'cat src/not-checked-in-a-fence.ts',
      '```',
    ].join('\n');
    const { links, paths } = markdownReferences('page.md', markdown);
    const pages = new Map([['page.md', markdown]]);
    expect(unresolved(links, { pages })).toEqual([
      'page.md:5 → docs/no-such-page.md (no such file)',
      'page.md:5 → README.md#no-such-section (no heading with the anchor #no-such-section)',
      'page.md:6 → #a-page-1 (no heading with the anchor #a-page-1)',
    ]);
    expect(unresolved(paths, { pages })).toEqual([
      'page.md:7 → test/unit/no-such.test.ts (no such file)',
      'page.md:7 → src/nothing/ (no such file)',
      'page.md:9 → test/replay/histories/nothing-*.json (no file matches)',
    ]);

    const source = [
      '// See docs/reliability.md and docs/nothing.md, sections 2-3; src/zendesk/ (not /src/x.ts or https://a/src/y.ts).',
      "const url = 'docs/in-a-string-not-a-comment.md';",
      '/** Sources: temporalio/documentation docs/evaluate/cloud/actions.mdx; `src/worker.ts`. */',
      'export const x = `${url} src/in-a-template.ts`; // trailing: test/unit/nothing.test.ts',
    ].join('\n');
    expect(unresolved(commentReferences('src/example.ts', source))).toEqual([
      'src/example.ts:1 → docs/nothing.md (no such file)',
      'src/example.ts:4 → test/unit/nothing.test.ts (no such file)',
    ]);
  });
});

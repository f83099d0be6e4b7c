// Known advisories against what package.json allows and package-lock.json installs. `npm audit` cannot run everywhere
// (a registry without the audit endpoint answers 405), so the versions that fixed them are kept here: a dependency's
// declared range must not start below a fix (a fresh resolution could land on a vulnerable release), and no copy in
// the lockfile may be below one. Add a row when an advisory is published; raise the floor in package.json with it.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'));

interface Advisory {
  /** CVE and/or GHSA ids. */
  ids: string;
  /**
   * The first fixed release of each major line that got a fix. A version on a listed major must be at or above its
   * fix; one on a major below every listed one is vulnerable (no fix there); one on an unlisted major above the
   * lowest is a line that never had the flaw, or released after it (e.g. protobufjs 8 for a 6.x/7.x advisory).
   */
  fixed: string[];
}

/** package name → advisories. Production dependencies first, then development and transitive ones. */
const ADVISORIES: Record<string, Advisory[]> = {
  axios: [
    { ids: 'CVE-2023-45857 GHSA-wf5p-g6vw-rhxx (XSRF-TOKEN sent to any host)', fixed: ['1.6.0'] },
    { ids: 'CVE-2024-39338 GHSA-8hc4-vh64-cxmj (SSRF via protocol-relative URL)', fixed: ['1.7.4'] },
    {
      ids: 'CVE-2025-27152 GHSA-jr5f-v2jv-69x6 (absolute URL overrides baseURL: SSRF, credential leak)',
      fixed: ['1.8.2'],
    },
    { ids: 'CVE-2025-58754 GHSA-4hjh-wcwx-xvwj (unbounded data: URI, DoS)', fixed: ['1.12.0'] },
    { ids: 'CVE-2026-25639 GHSA-43fc-jf86-j433 (__proto__ in mergeConfig, DoS)', fixed: ['1.13.5'] },
    { ids: 'CVE-2025-62718 GHSA-3p68-rc4w-qgx5 (NO_PROXY normalization bypass, SSRF)', fixed: ['1.15.0'] },
    {
      ids: 'CVE-2026-40175 GHSA-fvcv-3m26-pcqx (header injection chain, cloud metadata exfiltration)',
      fixed: ['1.15.0'],
    },
    { ids: 'CVE-2026-42033 (HTTP transport hijacking via prototype pollution)', fixed: ['1.15.1'] },
    {
      ids: 'CVE-2026-44488 GHSA-777c-7fjr-54vf (fetch adapter ignored maxContentLength/maxBodyLength)',
      fixed: ['1.16.0'],
    },
    { ids: 'GHSA-hmw2-7cc7-3qxx (form-data CRLF injection; axios raised its form-data floor)', fixed: ['1.19.0'] },
  ],
  pg: [{ ids: 'CVE-2017-16082 GHSA-wc9v-mj63-m9g5 (code execution from a crafted column name)', fixed: ['7.1.2'] }],
  yaml: [{ ids: 'CVE-2023-2251 GHSA-f9xv-q969-pqx4 (uncaught exception on crafted input)', fixed: ['2.2.2'] }],
  zod: [{ ids: 'CVE-2023-4316 GHSA-m95q-7qp3-xv42 (ReDoS in email validation)', fixed: ['3.22.3'] }],
  // Through the SQLite it bundles (12.2.0 is the first with SQLite 3.50.2); the test below also asks SQLite itself.
  'better-sqlite3': [{ ids: 'CVE-2025-6965 (SQLite < 3.50.2: aggregate terms memory corruption)', fixed: ['12.2.0'] }],
  protobufjs: [
    { ids: 'CVE-2022-25878 GHSA-g954-5hwp-pp24 (prototype pollution)', fixed: ['6.11.3'] },
    { ids: 'CVE-2023-36665 GHSA-h755-8qp9-cq85 (prototype pollution)', fixed: ['6.11.4', '7.2.4'] },
    { ids: 'CVE-2026-41242 GHSA-xq3m-2v4x-88gg (code execution from a crafted definition)', fixed: ['7.5.5', '8.0.1'] },
    {
      ids: 'CVE-2026-44291 GHSA-75px-5xx7-5xc7, GHSA-66ff-xgx4-vchm, GHSA-jvwf-75h9-cwgg, GHSA-685m-2w69-288q',
      fixed: ['7.5.6'],
    },
  ],
  // ts-node, typescript, chalk 4, log-update 4: no advisory known.
  'playwright-core': [
    { ids: 'CVE-2025-59288 GHSA-7mvr-c777-76hp (browser download without TLS checks)', fixed: ['1.55.1'] },
  ],
  // Transitive: checked in the lockfile only.
  'follow-redirects': [
    { ids: 'CVE-2023-26159 GHSA-jchw-25xp-jwwc (URL parsing, open redirect)', fixed: ['1.15.4'] },
    { ids: 'CVE-2024-28849 GHSA-cxjh-pqwp-8mfp (Proxy-Authorization kept across hosts)', fixed: ['1.15.6'] },
  ],
  'form-data': [
    { ids: 'CVE-2025-7783 GHSA-fjxv-7rqg-78g4 (predictable multipart boundary)', fixed: ['2.5.4', '3.0.4', '4.0.4'] },
    { ids: 'GHSA-hmw2-7cc7-3qxx (CRLF injection)', fixed: ['4.0.6'] },
  ],
  // Fixed in 1.8.22, 1.9.15 and 1.10.9: per major line, the last of them.
  '@grpc/grpc-js': [{ ids: 'CVE-2024-37168 GHSA-7v5v-9h63-cj86 (memory allocation above limits)', fixed: ['1.10.9'] }],
  // Installs better-sqlite3's prebuilt binary (prebuild-install). 1.x got fixes too: not listed, so flagged.
  'tar-fs': [
    { ids: 'CVE-2024-12905 GHSA-pq67-2wwv-3xjx (link following, path traversal)', fixed: ['2.1.2', '3.1.1'] },
    { ids: 'CVE-2025-48387 GHSA-8cj5-5rvv-wf4v (extraction outside the directory)', fixed: ['2.1.3', '3.1.1'] },
    { ids: 'CVE-2025-59343 GHSA-vj76-c3g6-qr5v (symlink validation bypass)', fixed: ['2.1.4', '3.1.1'] },
  ],
  webpack: [
    { ids: 'CVE-2024-43788 GHSA-4vvj-4cpr-p986 (DOM clobbering in AutoPublicPathRuntimeModule)', fixed: ['5.94.0'] },
  ],
  semver: [{ ids: 'CVE-2022-25883 GHSA-c2qf-rxjj-qqgw (ReDoS)', fixed: ['5.7.2', '6.3.1', '7.5.2'] }],
  braces: [{ ids: 'CVE-2024-4068 GHSA-grv7-fg5c-xmjg (unbounded memory)', fixed: ['3.0.3'] }],
  micromatch: [{ ids: 'CVE-2024-4067 GHSA-952p-6rrq-rcjv (ReDoS)', fixed: ['4.0.8'] }],
  'cross-spawn': [{ ids: 'CVE-2024-21538 GHSA-3xgq-45jj-v275 (ReDoS)', fixed: ['6.0.6', '7.0.5'] }],
  json5: [{ ids: 'CVE-2022-46175 GHSA-9c47-m6qq-7p4h (prototype pollution)', fixed: ['1.0.2', '2.2.2'] }],
  'word-wrap': [{ ids: 'CVE-2023-26115 GHSA-j8xg-fqg3-53r7 (ReDoS)', fixed: ['1.2.4'] }],
  'js-yaml': [{ ids: 'CVE-2025-64718 GHSA-mh29-5h37-fv8m (prototype pollution in merge)', fixed: ['3.14.2', '4.1.1'] }],
  'brace-expansion': [
    { ids: 'CVE-2025-5889 GHSA-v6h2-p8h4-qcjw (ReDoS)', fixed: ['1.1.12', '2.0.2', '3.0.1', '4.0.1'] },
  ],
  '@babel/traverse': [
    { ids: 'CVE-2023-45133 GHSA-67hx-6x53-jw92 (code execution on crafted code)', fixed: ['7.23.2'] },
  ],
  '@babel/helpers': [{ ids: 'CVE-2025-27789 GHSA-968p-4wvh-cqc8 (ReDoS in generated code)', fixed: ['7.26.10'] }],
};

/** What SQLite, bundled in better-sqlite3, must be at least. */
const SQLITE_FIXED = { ids: 'CVE-2025-29087 (3.49.1), CVE-2025-6965 (3.50.2)', version: '3.50.2' };

type Version = [number, number, number];

function parse(version: string): Version {
  const match = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(version);
  if (!match) throw new Error(`not a version: "${version}"`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

function compare(a: string, b: string): number {
  const [x, y] = [parse(a), parse(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

/** The lowest version a declared range accepts: `1.2.3`, `^1.2.3`, `~1.2.3`, `>=1.2.3` (anything else: an error). */
function floorOf(range: string): string {
  const match = /^(?:\^|~|>=\s*)?(\d+\.\d+\.\d+)$/.exec(range.trim());
  if (!match)
    throw new Error(`unsupported range "${range}": give it a lowest version (^x.y.z, ~x.y.z, >=x.y.z, x.y.z)`);
  return match[1];
}

/** The advisories of `advisories` that `version` is still exposed to. */
function exposures(version: string, advisories: Advisory[]): string[] {
  const major = parse(version)[0];
  return advisories
    .filter(({ fixed }) => {
      const sameLine = fixed.find((f) => parse(f)[0] === major);
      if (sameLine) return compare(version, sameLine) < 0;
      return fixed.every((f) => parse(f)[0] > major);
    })
    .map((a) => a.ids);
}

const pkg = readJson('package.json') as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = readJson('package-lock.json') as {
  lockfileVersion: number;
  packages: Record<string, { version?: string; dependencies?: Record<string, string>; devDependencies?: unknown }>;
};

/** Every copy of a package in the lockfile, by its install path. */
function lockedCopies(name: string): { at: string; version: string }[] {
  return Object.entries(lock.packages)
    .filter(([at, entry]) => (at === `node_modules/${name}` || at.endsWith(`/node_modules/${name}`)) && entry.version)
    .map(([at, entry]) => ({ at, version: entry.version as string }));
}

describe('dependency floors', () => {
  test('the exposure rule: per major line, below every fixed line, and later lines', () => {
    const advisory: Advisory[] = [{ ids: 'X', fixed: ['6.11.4', '7.2.4'] }];
    expect(exposures('7.2.3', advisory)).toEqual(['X']);
    expect(exposures('7.2.4', advisory)).toEqual([]);
    expect(exposures('6.11.3', advisory)).toEqual(['X']);
    expect(exposures('5.0.0', advisory)).toEqual(['X']);
    expect(exposures('8.0.0', advisory)).toEqual([]);
    expect(floorOf('^1.19.0')).toBe('1.19.0');
    expect(floorOf('~5.6.3')).toBe('5.6.3');
    expect(floorOf('8.8.1')).toBe('8.8.1');
    expect(() => floorOf('1.x || 2')).toThrow(/unsupported range/);
  });

  test('the lockfile records the ranges package.json declares', () => {
    expect(lock.lockfileVersion).toBeGreaterThanOrEqual(2);
    expect(lock.packages[''].dependencies).toEqual(pkg.dependencies);
    expect(lock.packages[''].devDependencies).toEqual(pkg.devDependencies);
  });

  const declared = { ...pkg.dependencies, ...pkg.devDependencies };
  const direct = Object.keys(ADVISORIES).filter((name) => name in declared);

  test('every production dependency listed here is declared (a stale row would check nothing)', () => {
    for (const name of ['axios', 'pg', 'yaml', 'zod', 'better-sqlite3', 'protobufjs']) {
      expect({ name, declared: name in pkg.dependencies }).toEqual({ name, declared: true });
    }
    expect(declared['playwright-core']).toBeDefined();
  });

  test.each(direct)("%s: the declared range's lowest version is past every fixed advisory", (name) => {
    const floor = floorOf(declared[name]);
    expect({ name, floor, exposedTo: exposures(floor, ADVISORIES[name]) }).toEqual({ name, floor, exposedTo: [] });
  });

  test.each(Object.keys(ADVISORIES))('%s: every copy in package-lock.json is past every fixed advisory', (name) => {
    const copies = lockedCopies(name);
    if (name in declared) expect(copies.map((c) => c.at)).toContain(`node_modules/${name}`);
    for (const { at, version } of copies) {
      expect({ at, version, exposedTo: exposures(version, ADVISORIES[name]) }).toEqual({ at, version, exposedTo: [] });
    }
  });

  test('the SQLite better-sqlite3 runs is past its fixed advisories', () => {
    const db = new Database(':memory:');
    try {
      const { version } = db.prepare('SELECT sqlite_version() AS version').get() as { version: string };
      expect({ ids: SQLITE_FIXED.ids, version, atLeast: compare(version, SQLITE_FIXED.version) >= 0 }).toEqual({
        ids: SQLITE_FIXED.ids,
        version,
        atLeast: true,
      });
    } finally {
      db.close();
    }
  });
});

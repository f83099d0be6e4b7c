import { REFERENCE_LIST_MAX_PER_PAGE, REFERENCE_LIST_PATHS, type ReferenceList } from '../streams/names';
import type { Bucket } from './buckets';
import { jsonReply, type Reply } from './http';
import { RATE_LIMIT_ERROR, RATE_WINDOW_SECONDS, tooManyRequests } from './rate-limits';
import type { ReferenceLists } from './reference-lists';

/** A GET of a reference list. */
export interface ReferenceCall {
  list: ReferenceList;
  params: URLSearchParams;
}

const LIST_AT: ReadonlyMap<string, ReferenceList> = new Map(
  Object.entries(REFERENCE_LIST_PATHS).flatMap(([list, path]) => [
    [path, list as ReferenceList],
    // Zendesk answers the paths without `.json` too.
    [path.replace(/\.json$/, ''), list as ReferenceList],
  ]),
);

export function referenceListAt(path: string): ReferenceList | undefined {
  return LIST_AT.get(path);
}

/** `page[after]` and before_cursor: the id of the row a page ends (or starts) at, opaque to clients. */
const encodeCursor = (id: number) => Buffer.from(`ref:${id}`).toString('base64url');

function decodeCursor(text: string): number | undefined {
  const match = /^ref:(\d{1,16})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : undefined;
}

const badPagination = (description: string) =>
  jsonReply(400, JSON.stringify({ error: 'InvalidPaginationParameter', description }));

/**
 * The reference lists (docs/emulator.md#reference-lists): standard cursor pagination by id (`page[size]` 1-100, default
 * 100; `page[after]`), answered with `meta` and `links`; custom_statuses answers its whole list in one page, without
 * them. Every call counts against the account-wide bucket.
 */
export class ReferenceEndpoints {
  readonly rateLimit = { body: RATE_LIMIT_ERROR, retryAfterSeconds: RATE_WINDOW_SECONDS };

  constructor(
    private readonly lists: ReferenceLists,
    readonly bucket: Bucket,
    private readonly url: () => string,
  ) {}

  limited(nowMs: number): Reply | undefined {
    const retryAfter = this.bucket.refuse(nowMs);
    return retryAfter === undefined ? undefined : tooManyRequests(RATE_LIMIT_ERROR, retryAfter);
  }

  /** The page; a `counted` call counts in the bucket. */
  answer(call: ReferenceCall, counted: boolean, nowMs: number): Reply {
    const reply = this.page(call);
    if (counted && reply.status === 200) this.bucket.accept(nowMs);
    return reply;
  }

  /** The list's first page, for the truncated fault. */
  whole(call: ReferenceCall): Reply {
    return this.page({ list: call.list, params: new URLSearchParams() });
  }

  private page({ list, params }: ReferenceCall): Reply {
    const rows = this.lists.rows(list);
    if (list === 'custom_statuses') {
      return { ...jsonReply(200, JSON.stringify({ custom_statuses: rows })), delivered: rows.length };
    }
    const sizeText = params.get('page[size]');
    const size = sizeText === null ? REFERENCE_LIST_MAX_PER_PAGE : Number(sizeText);
    if (!Number.isSafeInteger(size) || size < 1 || size > REFERENCE_LIST_MAX_PER_PAGE) {
      return badPagination(`page[size] must be a whole number from 1 to ${REFERENCE_LIST_MAX_PER_PAGE}`);
    }
    const afterText = params.get('page[after]');
    const after = afterText === null ? 0 : decodeCursor(afterText);
    if (after === undefined) return badPagination('page[after] is not a cursor this endpoint issued');
    const rest = rows.filter((row) => row.id > after);
    const page = rest.slice(0, size);
    const hasMore = rest.length > size;
    const last = page[page.length - 1];
    const afterCursor = last ? encodeCursor(last.id) : null;
    const beforeCursor = page[0] ? encodeCursor(page[0].id - 1) : null;
    const path = `${this.url()}${REFERENCE_LIST_PATHS[list]}`;
    const body = {
      [list]: page,
      meta: { has_more: hasMore, after_cursor: afterCursor, before_cursor: beforeCursor },
      links: {
        next: hasMore && afterCursor ? `${path}?page[after]=${afterCursor}&page[size]=${size}` : null,
        prev: beforeCursor ? `${path}?page[before]=${beforeCursor}&page[size]=${size}` : null,
      },
    };
    return { ...jsonReply(200, JSON.stringify(body)), delivered: page.length };
  }
}

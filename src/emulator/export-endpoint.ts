import { FIELD_HEADERS, NOTES_FIELD_HEADER } from './data';
import { EXPORT_PATH, SAMPLE_PATH, type EndpointDeps, type TicketCall, type TicketEndpoints } from './endpoints';
import { jsonReply, TEXT_TYPE, type Reply } from './http';
import { RATE_LIMIT_ERROR, tooManyRequests, WindowLimit } from './rate-limits';

const INVALID_START_TIME = JSON.stringify({
  error: 'InvalidValue',
  description: 'start_time is required and must be an integer',
});
const TOO_RECENT = 'Too recent start_time. Use a start_time older than 5 minutes';

/**
 * The endpoint the product was specified against, GET /api/v2/exports/tickets.json, and its sample variant
 * (docs/zendesk-api.md#the-specified-export): flat rows, one accepted call per window, each with its own window.
 */
export class ExportEndpoint implements TicketEndpoints {
  private readonly exportLimit: WindowLimit;
  private readonly sampleLimit: WindowLimit;

  constructor(private readonly deps: EndpointDeps) {
    const { options } = deps;
    this.exportLimit = new WindowLimit(() => options.windowSeconds);
    this.sampleLimit = new WindowLimit(() => options.sampleWindowSeconds);
  }

  get rateLimit(): { body: string; retryAfterSeconds: number } {
    return { body: RATE_LIMIT_ERROR, retryAfterSeconds: this.deps.options.windowSeconds };
  }

  limited(call: TicketCall, nowMs: number): Reply | undefined {
    const retryAfter = this.limitOf(call).retryAfter(nowMs);
    return retryAfter === undefined ? undefined : tooManyRequests(RATE_LIMIT_ERROR, retryAfter);
  }

  answer(call: TicketCall, counted: boolean): Reply {
    if (call.startTime === null) return jsonReply(400, INVALID_START_TIME);
    const now = this.deps.nowMs();
    const nowSeconds = Math.floor(now / 1000);
    // A too-recent start_time still uses up the window.
    if (counted) this.limitOf(call).accept(now);
    if (nowSeconds - call.startTime < this.deps.options.minStartAgeSeconds) {
      return { status: 422, body: TOO_RECENT, headers: { 'Content-Type': TEXT_TYPE } };
    }
    const page = this.page(call, call.startTime, nowSeconds);
    return { ...jsonReply(200, JSON.stringify(page)), delivered: page.results.length };
  }

  whole(call: TicketCall): Reply {
    const nowSeconds = Math.floor(this.deps.nowMs() / 1000);
    return jsonReply(200, JSON.stringify(this.page(call, call.startTime ?? 0, nowSeconds)));
  }

  private limitOf(call: TicketCall): WindowLimit {
    return call.endpoint === 'sample' ? this.sampleLimit : this.exportLimit;
  }

  private page(call: TicketCall, startTime: number, nowSeconds: number) {
    const { store, options } = this.deps;
    const url = this.deps.url();
    const sample = call.endpoint === 'sample';
    const limit = sample ? options.samplePageSize : options.pageSize;
    const results = store.rows(store.page(startTime, nowSeconds, limit), url);
    const endTime = results.length > 0 ? results[results.length - 1].generated_timestamp : null;
    return {
      results,
      field_headers: store.notesBytes > 0 ? { ...FIELD_HEADERS, ...NOTES_FIELD_HEADER } : FIELD_HEADERS,
      options: { timezone: 'UTC', hour_offset: 0 },
      end_time: endTime,
      next_page: endTime === null ? null : `${url}${sample ? SAMPLE_PATH : EXPORT_PATH}?start_time=${endTime}`,
    };
  }
}

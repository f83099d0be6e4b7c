import type * as http from 'node:http';
import { Exchange, type ExchangeRecorder, type PendingTimers } from './exchange';
import { FaultQueue, isGeneralFault, planFault, type FaultTarget } from './faults';
import { OAUTH_TOKENS_PATH } from './endpoints';
import { JSON_TYPE, readText, type Reply } from './http';
import type { TokenAuthority } from './oauth';
import { RATE_LIMIT_ERROR, RATE_WINDOW_SECONDS } from './rate-limits';
import type { StatsRecorder, TokenLogEntry } from './stats';

/** RFC 6749 5.1: token answers are not cached */
const TOKEN_HEADERS = { 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-store', Pragma: 'no-cache' };
const INVALID_CLIENT = JSON.stringify({
  error: 'invalid_client',
  error_description: 'Client authentication failed.',
});

export interface TokenEndpointDeps {
  tokens: TokenAuthority;
  recorder: StatsRecorder;
  timers: PendingTimers;
  nowMs(): number;
}

/** POST /oauth/tokens: the client credentials grant, with a fault queue of its own. */
export class TokenEndpoint {
  /** faults for the next calls, apart from those of the ticket endpoints */
  readonly faults = new FaultQueue();

  constructor(private readonly deps: TokenEndpointDeps) {}

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const exchange = new Exchange(req, res, this.record, this.deps.timers);
    // taken on arrival, so that concurrent requests meet the faults in the order they came
    const fault = this.faults.take(isGeneralFault);
    exchange.fault = fault?.kind;
    if (fault?.kind === 'reset') {
      exchange.reset();
      return;
    }
    const text = await readText(req);
    if (!fault) {
      exchange.reply(this.grant(text));
      return;
    }
    const target: FaultTarget = {
      unauthorized: { body: INVALID_CLIENT },
      rateLimit: { body: RATE_LIMIT_ERROR, retryAfterSeconds: RATE_WINDOW_SECONDS },
      whole: () => this.grant(text),
      request: `POST ${OAUTH_TOKENS_PATH} ${text ?? ''}`,
    };
    exchange.serveFault(planFault(fault, target), () => exchange.reply(this.grant(text)));
  }

  /** The answer to a request with this body (undefined: too large to read); a 200 issues a token. */
  private grant(text: string | undefined): Reply {
    const { status, body } = this.deps.tokens.grant(text, this.deps.nowMs());
    return { status, body: JSON.stringify(body), headers: TOKEN_HEADERS, delivered: status === 200 ? 1 : 0 };
  }

  private readonly record: ExchangeRecorder = (status, reply, fault) => {
    const entry: TokenLogEntry = { at: this.deps.nowMs(), status };
    if (fault) entry.fault = fault;
    this.deps.recorder.token(entry, (reply?.delivered ?? 0) > 0);
  };
}

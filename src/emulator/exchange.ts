import type * as http from 'node:http';
import type { FaultKind, FaultPlan } from './faults';
import { send, type Reply } from './http';

/** The timers of delayed answers, cleared when the emulator closes. */
export class PendingTimers {
  private readonly timers = new Set<NodeJS.Timeout>();

  add(delayMs: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, delayMs);
    this.timers.add(timer);
  }

  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

/**
 * Records how an exchange ended: the status sent, or 'reset' or 'aborted' when nothing was; the reply, if any; the
 * fault that shaped it, if any.
 */
export type ExchangeRecorder = (
  status: number | string,
  reply: Reply | undefined,
  fault: FaultKind | undefined,
) => void;

/** One request being answered: whatever happens to it, it is recorded once. */
export class Exchange {
  /** the fault that shapes this answer, if any */
  fault: FaultKind | undefined;
  /** headers every answer of this exchange carries (computed when it is sent) */
  extraHeaders: (() => Record<string, string>) | undefined;

  constructor(
    readonly req: http.IncomingMessage,
    readonly res: http.ServerResponse,
    private readonly record: ExchangeRecorder,
    private readonly timers: PendingTimers,
  ) {}

  reply(reply: Reply): void {
    send(this.res, this.extraHeaders ? { ...reply, headers: { ...reply.headers, ...this.extraHeaders() } } : reply);
    this.record(reply.status, reply, this.fault);
  }

  /** Drops the connection without an answer. */
  reset(): void {
    this.req.socket.resetAndDestroy();
    this.record('reset', undefined, this.fault);
  }

  /** Answers as the fault's plan says; `answer` sends the answer the request would get without it. */
  serveFault(plan: FaultPlan, answer: () => void): void {
    if ('reply' in plan) {
      this.reply(plan.reply);
    } else if ('reset' in plan) {
      this.reset();
    } else if ('date' in plan) {
      this.res.setHeader('Date', plan.date);
      answer();
    } else {
      this.timers.add(plan.delayMs, () => {
        // the client may have given up in the meantime
        if (!this.res.destroyed && !this.req.socket.destroyed) answer();
        else this.record('aborted', undefined, this.fault);
      });
    }
  }
}

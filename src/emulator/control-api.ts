import type * as http from 'node:http';
import { z } from 'zod';
import { STREAM_TRUTH_NAMES, type Emulator, type StreamTruthName } from './emulator';
import { validateFaultSpecs } from './faults';
import { isReferenceList } from '../streams/names';
import type { ReferenceChange } from './reference-lists';
import { JSON_TYPE, readJsonObject, send } from './http';
import { mutateSchema } from './mutations';
import {
  burstSchema,
  configurePatchSchema,
  EmulatorInputError,
  parseInput,
  positiveInt,
  type MutationSpec,
} from './options';

/** What the control API drives: the emulator, and what its public interface does not show. */
export interface ControlTarget extends Emulator {
  readonly pendingFaults: number;
  readonly pendingTokenFaults: number;
  /** what a "start" without intervalMs or perTick takes them from */
  readonly lastMutationSpec: MutationSpec;
}

const INCREMENTAL_CONFIG_KEYS = [
  'incrementalRequestsPerMinute',
  'usersCursorRequestsPerMinute',
  'accountRequestsPerMinute',
  'incrementalMinStartAgeSeconds',
  'maxPageBytes',
] as const;

/** A route named a user, organization or comment that does not exist. */
class RecordNotFound extends Error {}

/** POST /__emulator/comments/:id/redact: the text to redact (all of the body when absent). */
const redactSchema = z.object({ text: z.string().min(1).optional() });

/** A "start" takes what it leaves out from the latest spec. */
const startSchema = z.object({ intervalMs: positiveInt.nullish(), perTick: positiveInt.nullish() });

/** /__emulator/*: what tests, benchmarks and the demo use to inspect and steer the emulator over HTTP. */
export class ControlApi {
  constructor(private readonly target: ControlTarget) {}

  async handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    path: string,
    params: URLSearchParams,
  ): Promise<void> {
    const json = (status: number, value: unknown) =>
      send(res, { status, body: JSON.stringify(value), headers: { 'Content-Type': JSON_TYPE } });
    try {
      const route = `${req.method} ${path}`;
      const answer = (await this.streamAnswer(route, req)) ?? (await this.answer(route, req, params));
      if (answer === undefined) json(404, { error: 'InvalidEndpoint' });
      else json(200, answer);
    } catch (err) {
      if (err instanceof RecordNotFound) json(404, { error: 'RecordNotFound', description: err.message });
      else if (err instanceof EmulatorInputError) json(400, { error: 'BadRequest', description: err.message });
      else throw err;
    }
  }

  /** The routes of the streams around the ticket: their truth, changes to users and organizations, redactions. */
  private async streamAnswer(route: string, req: http.IncomingMessage): Promise<unknown> {
    const emulator = this.target;
    const truth = /^GET \/__emulator\/truth\/([a-z_]+)$/.exec(route);
    if (truth && (STREAM_TRUTH_NAMES as readonly string[]).includes(truth[1])) {
      const rows = emulator.streamTruth(truth[1] as StreamTruthName);
      return { count: rows.length, [truth[1]]: rows };
    }
    const change = /^POST \/__emulator\/(users|organizations)\/(\d{1,16})\/(update|delete)$/.exec(route);
    if (change) {
      const [, table, id, action] = change;
      const changed =
        table === 'users'
          ? emulator.changeUser(Number(id), action as 'update' | 'delete')
          : emulator.changeOrganization(Number(id), action as 'update' | 'delete');
      if (!changed) throw new RecordNotFound(`no ${table === 'users' ? 'user' : 'organization'} ${id}`);
      return { ok: true, [table === 'users' ? 'user' : 'organization']: changed };
    }
    const reference = /^POST \/__emulator\/reference\/([a-z_]+)\/(?:(\d{1,16})\/(rename|delete|restore)|(add))$/.exec(
      route,
    );
    if (reference && isReferenceList(reference[1])) {
      const [, list, id, action, add] = reference;
      const change = (add ?? action) as ReferenceChange;
      const row = emulator.changeReferenceList(list, change, id === undefined ? undefined : Number(id));
      if (!row) throw new RecordNotFound(`no ${list} item ${id}`);
      return { ok: true, row };
    }
    const redact = /^POST \/__emulator\/comments\/(\d{1,16})\/redact$/.exec(route);
    if (redact) {
      const { text } = parseInput(redactSchema, await readJsonObject(req));
      const comment = emulator.redactComment(Number(redact[1]), text);
      if (!comment) throw new RecordNotFound(`no comment ${redact[1]}`);
      return { ok: true, comment };
    }
    return undefined;
  }

  /** The 200 answer's body; undefined for an unknown route. */
  private async answer(route: string, req: http.IncomingMessage, params: URLSearchParams): Promise<unknown> {
    const emulator = this.target;
    switch (route) {
      case 'GET /__emulator/stats':
        return emulator.stats();
      case 'POST /__emulator/stats/reset':
        emulator.resetStats();
        return { ok: true };
      case 'GET /__emulator/truth': {
        const format = params.get('format') ?? 'flat';
        if (format !== 'flat' && format !== 'full') throw new EmulatorInputError('format must be "flat" or "full"');
        const tickets = format === 'full' ? emulator.truthFull() : emulator.truth();
        return { count: tickets.length, tickets };
      }
      case 'POST /__emulator/faults':
        emulator.injectFaults(validateFaultSpecs((await readJsonObject(req)).faults));
        return { ok: true, queued: emulator.pendingFaults };
      case 'DELETE /__emulator/faults':
        emulator.clearFaults();
        return { ok: true };
      case 'POST /__emulator/token-faults':
        emulator.injectTokenFaults(validateFaultSpecs((await readJsonObject(req)).faults));
        return { ok: true, queued: emulator.pendingTokenFaults };
      case 'DELETE /__emulator/token-faults':
        emulator.clearTokenFaults();
        return { ok: true };
      case 'POST /__emulator/tokens/revoke':
        emulator.revokeTokens();
        return { ok: true };
      case 'POST /__emulator/mutations':
        return this.mutations(await readJsonObject(req));
      case 'POST /__emulator/burst': {
        const { size, timestamp } = parseInput(burstSchema, await readJsonObject(req));
        return { timestamp: emulator.addBurst(size, timestamp) };
      }
      case 'POST /__emulator/config':
        return this.configure(await readJsonObject(req));
      default:
        return undefined;
    }
  }

  private mutations(body: Record<string, unknown>): unknown {
    const emulator = this.target;
    switch (body.action) {
      case 'start': {
        const { intervalMs, perTick } = parseInput(startSchema, body);
        const last = emulator.lastMutationSpec;
        emulator.startMutations({ intervalMs: intervalMs ?? last.intervalMs, perTick: perTick ?? last.perTick });
        return { ok: true, mutations: emulator.options.mutations };
      }
      case 'stop':
        emulator.stopMutations();
        return { ok: true, mutations: null };
      case 'apply': {
        const { count, kind } = parseInput(mutateSchema, body);
        return { ok: true, applied: emulator.mutate(count, kind) };
      }
      default:
        throw new EmulatorInputError('action must be "start", "stop" or "apply"');
    }
  }

  /** Applies the patch; answers with the windows and the minimum start age, and every incremental setting it set. */
  private configure(body: Record<string, unknown>): Record<string, number> {
    const { options } = this.target;
    const patch = parseInput(configurePatchSchema, body);
    this.target.configure(patch);
    const { windowSeconds, sampleWindowSeconds, minStartAgeSeconds } = options;
    const answer: Record<string, number> = { windowSeconds, sampleWindowSeconds, minStartAgeSeconds };
    // The incremental settings are echoed only when set, so the answer stays as it was for older callers.
    for (const key of INCREMENTAL_CONFIG_KEYS) if (patch[key] !== undefined) answer[key] = options[key];
    return answer;
  }
}

import { z } from 'zod';
import type { MutationKind, MutationRecord, TicketStore } from './data';
import type { People } from './people';
import {
  burstSchema,
  defaultBurstTimestamp,
  DEFAULT_MUTATION_SPEC,
  mutationSpecSchema,
  nonNegativeInt,
  parseInput,
  type MutationSpec,
  type ResolvedEmulatorOptions,
} from './options';

const MUTATION_KINDS = ['create', 'agentUpdate', 'systemUpdate', 'delete'] as const satisfies readonly MutationKind[];

/** `mutate()` and the control API's "apply": how many changes, and of which kind (default: a random mix). */
export const mutateSchema = z.object({ count: nonNegativeInt.default(1), kind: z.enum(MUTATION_KINDS).optional() });

/** Changes to the tickets while the emulator runs: at once, or on a schedule. */
export class Mutations {
  private timer: NodeJS.Timeout | undefined;
  private latestSpec: MutationSpec;

  constructor(
    private readonly store: TicketStore,
    /** `mutations` shows the running schedule; minStartAgeSeconds and now are read at each call */
    private readonly options: ResolvedEmulatorOptions,
    initialSpec: MutationSpec = DEFAULT_MUTATION_SPEC,
    /** the ticker changes these too (users and organizations) */
    private readonly people?: People,
  ) {
    this.latestSpec = initialSpec;
  }

  /** what start() without a spec runs: the latest spec started, or the one the emulator was given */
  get lastSpec(): MutationSpec {
    return this.latestSpec;
  }

  private get nowSeconds(): number {
    return Math.floor(this.options.now() / 1000);
  }

  apply(count: number, kind?: MutationKind): MutationRecord[] {
    const request = parseInput(mutateSchema, { count, kind });
    return this.store.mutate(request.count, this.nowSeconds, request.kind);
  }

  /** Adds `size` tickets sharing one generated_timestamp; returns that timestamp. */
  addBurst(size: number, timestamp?: number): number {
    const burst = parseInput(burstSchema.required(), {
      size,
      timestamp: timestamp ?? defaultBurstTimestamp(this.nowSeconds, this.options.minStartAgeSeconds),
    });
    return this.store.addBurst(burst.size, burst.timestamp);
  }

  start(spec?: MutationSpec): void {
    const resolved = spec ? parseInput(mutationSpecSchema, spec) : this.latestSpec;
    this.stop();
    this.latestSpec = resolved;
    this.options.mutations = { ...resolved };
    this.timer = setInterval(() => {
      const now = this.nowSeconds;
      this.store.mutate(resolved.perTick, now);
      for (let i = 0; i < resolved.perTick; i++) this.people?.churnSometimes(now);
    }, resolved.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.options.mutations = null;
  }
}

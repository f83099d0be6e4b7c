import type { FullTicket, MutationKind, MutationRecord, TicketRow } from './data';
import type { FaultSpec } from './faults';
import type { ConfigurePatch, MutationSpec, ResolvedEmulatorOptions } from './options';
import type { EmulatorStats } from './stats';

/** A running local Zendesk, as startEmulator() returns it. */
export interface Emulator {
  url: string;
  port: number;
  options: ResolvedEmulatorOptions;
  truth(): TicketRow[];
  /** every ticket's latest version as the full object of the incremental endpoints, sorted by id */
  truthFull(): FullTicket[];
  stats(): EmulatorStats;
  resetStats(): void;
  injectFaults(faults: FaultSpec[]): void;
  clearFaults(): void;
  /** faults for the next POST /oauth/tokens calls, a queue of their own */
  injectTokenFaults(faults: FaultSpec[]): void;
  clearTokenFaults(): void;
  /** every access token issued so far becomes invalid */
  revokeTokens(): void;
  /** every access token issued so far (a test scans its outputs for each) */
  issuedTokens(): string[];
  /** applies `count` mutations now; `kind` forces one kind instead of the random mix */
  mutate(count: number, kind?: MutationKind): MutationRecord[];
  addBurst(size: number, timestamp?: number): number;
  startMutations(spec?: MutationSpec): void;
  stopMutations(): void;
  configure(patch: ConfigurePatch): void;
  close(): Promise<void>;
}

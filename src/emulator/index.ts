export {
  startEmulator,
  DEFAULT_CREDENTIALS,
  EXPORT_PATH,
  SAMPLE_PATH,
  type ConfigurePatch,
  type Emulator,
  type EmulatorCredentials,
  type EmulatorLogEntry,
  type EmulatorOptions,
  type EmulatorStats,
  type Endpoint,
  type MutationSpec,
  type ResolvedEmulatorOptions,
} from './server';
export { FIELD_HEADERS, mulberry32, TicketStore, type MutationKind, type MutationRecord, type TicketRow } from './data';
export {
  EmulatorInputError,
  FaultQueue,
  retryAfterExpiry,
  validateFaultSpec,
  validateFaultSpecs,
  type FaultKind,
  type FaultSpec,
} from './faults';

// Every setting, read from the environment and the files it names: the loaders and what they hand out.

export { ConfigError } from './config-error';
export { apiTokenWarning } from './zendesk-env';
export { defaultExportApi, isZendeskHost } from './export-api';
export { readDecimal } from './values';
export { loadClientConfig, loadCodecServerConfig, loadWorkerConfig, loadZendeskSettings } from './load';
export type {
  ClientAccount,
  ClientConfig,
  CodecServerConfig,
  ExportDefaults,
  LoggingSettings,
  TemporalSettings,
  WorkerConfig,
  ZendeskSettings,
} from './settings';

import { redactUrlSecrets } from '../common/redact-url';
import type { WorkerConfig } from '../config';
import { Redactor, staticSecrets } from '../zendesk/redactor';
import type { Redact } from './log-fields';

/**
 * What a log line is cleaned of: the configuration's secrets, known at start, and steps added later (each Zendesk
 * client's, which also knows the access tokens it was issued since).
 */
export class LogRedaction {
  private readonly steps: Redact[] = [];

  add(step: Redact): void {
    this.steps.push(step);
  }

  readonly redact: Redact = (text) => this.steps.reduce((out, step) => step(out), text);
}

/** The worker's own secrets: every account's credentials, the payload keys, the Temporal API key, the codec token. */
export function configRedaction(config: WorkerConfig): LogRedaction {
  const secrets = config.accounts.flatMap((account) => staticSecrets(account.auth));
  if (config.encryption && !config.encryption.off) {
    const keys = [...(config.encryption.current ? [config.encryption.current] : []), ...config.encryption.previous];
    secrets.push(...keys.map((k) => k.key.toString('base64')));
  }
  if (config.temporal.apiKey) secrets.push(config.temporal.apiKey);
  if (config.codecServerToken) secrets.push(config.codecServerToken);
  const redactor = new Redactor(secrets);
  const urls = [config.sinkUrl, ...config.accounts.map((a) => a.httpsProxy)].filter((u): u is string => Boolean(u));
  const redaction = new LogRedaction();
  redaction.add((text) => urls.reduce((out, url) => redactUrlSecrets(out, url), redactor.redact(text)));
  return redaction;
}

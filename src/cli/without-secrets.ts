import { redactUrlSecrets } from '../common/redact-url';
import type { CliIo } from './io';

/**
 * A server's or proxy's error may echo what it was sent: the values of secret variables are blanked, and so are the
 * passwords of the URLs that may carry one (the sink, the proxy).
 */
export function withoutSecrets(text: string, env: CliIo['env']): string {
  const secrets = Object.entries(env)
    .filter(([name, value]) => /(_KEYS?|TOKEN|SECRET|PASSWORD)$/.test(name) && value && value.trim().length >= 4)
    .flatMap(([, value]) => value!.split(',').map((part) => part.trim()))
    .filter((secret) => secret.length >= 4);
  const blanked = secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  return [env.SINK_URL, env.ZENDESK_HTTPS_PROXY]
    .filter((url): url is string => Boolean(url?.trim()))
    .reduce((out, url) => redactUrlSecrets(out, url.trim()), blanked);
}

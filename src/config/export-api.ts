import type { ExportApi } from '../shared';

// Which ticket endpoint an account reads when nothing chooses one: the cursor endpoint at Zendesk itself, the
// specified (legacy) one anywhere else.

/** `https://<subdomain>.zendesk.com` (port 443): an account at Zendesk itself, not the emulator or a stand-in. */
export function isZendeskHost(baseUrl: string): boolean {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return false;
  }
  return url.protocol === 'https:' && url.port === '' && /^[a-z0-9][a-z0-9-]*\.zendesk\.com$/i.test(url.hostname);
}

/**
 * The endpoint of an account whose ZENDESK_EXPORT_API, accounts-file `api` and `start --api` are all unset. At
 * Zendesk: `cursor`, Zendesk's recommendation, paced per minute where the legacy `exports` is paced per five minutes
 * (days instead of hours to back-fill a large account). Anywhere else (the emulator, `npm run demo`): `exports`, the
 * endpoint the product was specified against.
 */
export function defaultExportApi(baseUrl: string): ExportApi {
  return isZendeskHost(baseUrl) ? 'cursor' : 'exports';
}

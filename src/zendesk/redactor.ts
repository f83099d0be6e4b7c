import type { ZendeskAuth } from './auth';

/** Tokens kept for redaction: the current one and a few before it (a late error may still echo one). */
const TRANSIENT_SECRETS_KEPT = 4;

/** Shorter values are not blanked: they would blank ordinary text, and no credential is that short. */
const MIN_SECRET_LENGTH = 4;

/** The secrets of a client's configuration, in the forms they travel in. */
export function staticSecrets(auth: ZendeskAuth): string[] {
  switch (auth.mode) {
    case 'api_token':
      return [`${auth.email}/token:${auth.apiToken}`, auth.apiToken];
    case 'oauth_access_token':
      return [auth.accessToken];
    case 'oauth_client_credentials':
      return [auth.clientSecret];
  }
}

/**
 * Blanks one account's credentials in text that came back from a server (an error page, a proxy or firewall that
 * quotes the request) before it reaches an error: the client's secrets and the access tokens it was issued, in every
 * form a quote of a request can carry them (as is, JSON-escaped, URL- or form-encoded, base64 and base64url also inside
 * a longer base64 text, hex), and any Basic or Bearer authorization value. The Zendesk calls and the OAuth token
 * requests of a client share one instance.
 */
export class Redactor {
  /** Forms compared exactly, longest first. */
  private exact: string[] = [];
  /** Forms whose letters may come in either case (percent-encoding and hex), lower-cased, in one pattern. */
  private anyCase?: RegExp;
  private readonly fixed = new Set<string>();
  private readonly transient: string[] = [];

  constructor(fixed: readonly string[] = []) {
    for (const secret of fixed) this.fixed.add(secret);
    this.rebuild();
  }

  /** A secret of the configuration, blanked for the life of the client. */
  addFixed(secret: string): void {
    if (this.fixed.has(secret)) return;
    this.fixed.add(secret);
    this.rebuild();
  }

  /** A short-lived secret (an access token): the newest few are blanked. */
  addTransient(secret: string): void {
    this.transient.push(secret);
    if (this.transient.length > TRANSIENT_SECRETS_KEPT) this.transient.shift();
    this.rebuild();
  }

  redact(text: string): string {
    let out = text.replace(/\b(Basic|Bearer)\s+[A-Za-z0-9+/=_.~-]+/gi, '$1 [redacted]');
    for (const form of this.exact) out = out.split(form).join('[redacted]');
    if (this.anyCase) out = out.replace(this.anyCase, '[redacted]');
    return out;
  }

  private rebuild(): void {
    const exact = new Set<string>();
    const anyCase = new Set<string>();
    for (const secret of [...this.fixed, ...this.transient]) {
      if (secret.length < MIN_SECRET_LENGTH) continue;
      exact.add(secret);
      exact.add(JSON.stringify(secret).slice(1, -1));
      exact.add(Buffer.from(secret, 'utf8').toString('base64'));
      exact.add(Buffer.from(secret, 'utf8').toString('base64url'));
      for (const window of base64Windows(secret)) {
        exact.add(window);
        exact.add(window.replace(/\+/g, '-').replace(/\//g, '_'));
      }
      anyCase.add(encodeURIComponent(secret).toLowerCase());
      anyCase.add(new URLSearchParams({ s: secret }).toString().slice(2).toLowerCase());
      anyCase.add(Buffer.from(secret, 'utf8').toString('hex'));
    }
    this.exact = [...exact].filter((form) => form.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
    const patterns = [...anyCase].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.anyCase = patterns.length > 0 ? new RegExp(patterns.join('|'), 'gi') : undefined;
  }
}

/**
 * The characters of base64(x) that depend only on `secret`, for x = the secret after 0, 1 or 2 other bytes: what any
 * base64 text holding the secret contains, whatever came before it (a base64-encoded request body, a Basic header).
 */
function base64Windows(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const windows: string[] = [];
  for (let k = 0; k < 3; k++) {
    const encoded = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    windows.push(encoded.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + bytes.length)) / 6)));
  }
  return windows;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Query parameters that carry a secret (`password`, `sslpassword`…); `sslkey`, `sslcert` are paths and stay. */
const SECRET_PARAMETER = /^(.*pass(word)?|passwd|pwd|.*secret|.*token)$/i;

/**
 * A URL as it may be printed (logs, errors): the password of its userinfo and the values of secret query parameters
 * (`?password=`, `sslpassword=`) blanked. The userinfo ends at the last `@` before the query string, so a password
 * that holds `@`, `:` or `/` unescaped is blanked whole.
 */
export function redactUrl(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:(\/\/)?/i.exec(url);
  const head = scheme ? scheme[0] : '';
  let rest = url.slice(head.length);
  if (scheme?.[1]) {
    const at = userinfoEnd(rest);
    if (at >= 0) {
      const user = rest.slice(0, at).split(':')[0];
      rest = `${user}${rest.slice(0, at).includes(':') ? ':***' : ''}@${rest.slice(at + 1)}`;
    }
  }
  const query = rest.search(/[?]/);
  if (query < 0) return head + rest;
  const parameters = rest
    .slice(query + 1)
    .split('&')
    .map((parameter) => {
      const eq = parameter.indexOf('=');
      if (eq < 0) return parameter;
      const name = safeDecode(parameter.slice(0, eq));
      return SECRET_PARAMETER.test(name) ? `${parameter.slice(0, eq)}=***` : parameter;
    });
  return `${head}${rest.slice(0, query)}?${parameters.join('&')}`;
}

/** Blanks the secrets of `url` (its password, secret parameters) wherever they appear in `text` (an error message). */
export function redactUrlSecrets(text: string, url: string): string {
  let out = text.split(url).join(redactUrl(url));
  for (const secret of urlSecrets(url)) {
    for (const form of new Set([secret, safeDecode(secret), encodeURIComponent(safeDecode(secret))])) {
      if (form.length >= 3) out = out.split(form).join('***');
    }
  }
  return out;
}

/** The last `@` before any query parameter: where the userinfo ends, or -1. */
function userinfoEnd(rest: string): number {
  for (let at = rest.lastIndexOf('@'); at >= 0; at = rest.lastIndexOf('@', at - 1)) {
    if (!/\?[^?]*=/.test(rest.slice(0, at))) return at;
  }
  return -1;
}

function urlSecrets(url: string): string[] {
  const redacted = redactUrl(url);
  if (redacted === url) return [];
  const secrets: string[] = [];
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  if (scheme) {
    const rest = url.slice(scheme[0].length);
    const at = userinfoEnd(rest);
    const colon = rest.indexOf(':');
    if (at >= 0 && colon >= 0 && colon < at) secrets.push(rest.slice(colon + 1, at));
  }
  const query = url.indexOf('?');
  if (query >= 0) {
    for (const parameter of url.slice(query + 1).split('&')) {
      const eq = parameter.indexOf('=');
      if (eq > 0 && SECRET_PARAMETER.test(safeDecode(parameter.slice(0, eq)))) secrets.push(parameter.slice(eq + 1));
    }
  }
  return secrets.filter((s) => s !== '');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

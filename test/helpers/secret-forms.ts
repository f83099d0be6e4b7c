/**
 * The forms a secret takes in text that quotes a request: as is, JSON-escaped (a JSON body quoted inside a JSON
 * string), URL-encoded (either case of hex digits) and form-encoded, base64 and base64url (also inside a longer base64
 * text, at each alignment), hex.
 */
export function secretForms(secret: string): { what: string; value: string; ignoreCase: boolean }[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = [
    { what: 'as is', value: secret, ignoreCase: false },
    { what: 'JSON-escaped', value: JSON.stringify(secret).slice(1, -1), ignoreCase: false },
    { what: 'URL-encoded', value: encodeURIComponent(secret), ignoreCase: true },
    { what: 'form-encoded', value: new URLSearchParams({ s: secret }).toString().slice(2), ignoreCase: true },
    { what: 'hex', value: bytes.toString('hex'), ignoreCase: true },
  ];
  for (let k = 0; k < 3; k++) {
    const encoded = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    const window = encoded.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + bytes.length)) / 6));
    forms.push({ what: `base64 (offset ${k})`, value: window, ignoreCase: false });
    forms.push({
      what: `base64url (offset ${k})`,
      value: window.replace(/\+/g, '-').replace(/\//g, '_'),
      ignoreCase: false,
    });
  }
  return forms;
}

/** The forms of `secret` that `text` holds ([] when none). */
export function leaksOf(secret: string, text: string): string[] {
  const lower = text.toLowerCase();
  return secretForms(secret)
    .filter(({ value, ignoreCase }) => (ignoreCase ? lower.includes(value.toLowerCase()) : text.includes(value)))
    .map(({ what }) => what);
}

/** The forms of `secret` in any string of `value` (an object parsed from JSON: a history, a status). */
export function leaksIn(secret: string, value: unknown): string[] {
  const texts: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') texts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null)
      Object.entries(v).forEach(([key, child]) => (texts.push(key), walk(child)));
  };
  walk(value);
  return leaksOf(secret, texts.join('\n'));
}

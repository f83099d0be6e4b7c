/**
 * `localhost`, 127.0.0.0/8 or ::1 (bracketed or not): where a credential may travel in plaintext, a dev server may be
 * changed, and the codec endpoint may listen without a token.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

/** The host of `host:port` (or a bare host) is loopback. */
export function isLoopback(address: string): boolean {
  return isLoopbackHost(address.replace(/^(\[[^\]]*\]|[^:]*):\d+$/, '$1'));
}

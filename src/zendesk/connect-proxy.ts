import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';

type Callback = (err: Error | null, stream: Duplex) => void;

/**
 * An HTTPS agent that reaches Zendesk through an HTTP proxy's CONNECT tunnel (ZENDESK_HTTPS_PROXY). TLS runs end to
 * end inside the tunnel: the proxy sees the host and port, never a request, a header or a credential. Plain HTTP is
 * never sent through it.
 */
export class ConnectProxyAgent extends https.Agent {
  private readonly proxy: URL;

  constructor(
    proxyUrl: string,
    private readonly connectTimeoutMs: number,
    options: https.AgentOptions = {},
  ) {
    super(options);
    this.proxy = new URL(proxyUrl);
    if (this.proxy.protocol !== 'http:') throw new Error('ZENDESK_HTTPS_PROXY: must be an http:// proxy URL');
  }

  /** Node's callback form: the socket is handed over once the tunnel is up and TLS started inside it. */
  override createConnection(options: https.RequestOptions, callback?: Callback): undefined {
    const done: Callback = callback ?? (() => undefined);
    const host = options.hostname ?? options.host ?? 'localhost';
    const port = Number(options.port ?? 443);
    const target = `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
    const headers: Record<string, string> = { Host: target };
    if (this.proxy.username) {
      const user = `${decodeURIComponent(this.proxy.username)}:${decodeURIComponent(this.proxy.password)}`;
      headers['Proxy-Authorization'] = `Basic ${Buffer.from(user).toString('base64')}`;
    }
    const request = http.request({
      host: this.proxy.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(this.proxy.port || 80),
      method: 'CONNECT',
      path: target,
      headers,
      agent: false,
    });
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      request.destroy();
      done(err, undefined as unknown as Duplex);
    };
    request.setTimeout(this.connectTimeoutMs, () =>
      fail(proxyError(`the proxy did not open a tunnel to ${target} within ${this.connectTimeoutMs} ms`)),
    );
    request.once('error', () => fail(proxyError(`the proxy ${this.proxy.host} cannot be reached`)));
    request.once('connect', (response, socket) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        fail(proxyError(`the proxy refused a tunnel to ${target} (${response.statusCode})`));
        return;
      }
      settled = true;
      request.setTimeout(0);
      const servername = options.servername ?? (net.isIP(host) ? undefined : host);
      done(
        null,
        tls.connect({ ...(options as tls.ConnectionOptions), socket, ...(servername !== undefined && { servername }) }),
      );
    });
    request.end();
    // Returned nothing: Node waits for the callback.
    return undefined;
  }
}

export const PROXY_ERROR = 'ERR_ZENDESK_PROXY';

function proxyError(message: string): Error {
  return Object.assign(new Error(message), { code: PROXY_ERROR });
}

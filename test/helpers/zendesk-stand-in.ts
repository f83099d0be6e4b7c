import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';

/**
 * A real Zendesk host name served by the local emulator, for tests of what the CLI does with an account at Zendesk:
 * the emulator behind TLS with a self-signed certificate for `<subdomain>.zendesk.com`, and a CONNECT proxy that
 * tunnels `<subdomain>.zendesk.com:443` (and nothing else) to it. A process started with
 * `ZENDESK_HTTPS_PROXY=proxyUrl` and `NODE_EXTRA_CA_CERTS=caFile` (read by Node at start: a child process) reaches
 * https://<subdomain>.zendesk.com through the project's own Zendesk client, and gets the emulator.
 */
export interface ZendeskStandIn {
  host: string;
  proxyUrl: string;
  /** The certificate, which is its own CA: for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  /** Every CONNECT target asked for, in order (refused ones included). */
  connects: string[];
  close(): Promise<void>;
}

export async function startZendeskStandIn(options: {
  subdomain: string;
  /** The emulator's port on 127.0.0.1 (plain HTTP). */
  emulatorPort: number;
  /** Where the certificate and key are written. */
  dir: string;
}): Promise<ZendeskStandIn> {
  const host = `${options.subdomain}.zendesk.com`;
  const [certFile, keyFile] = [path.join(options.dir, `${host}.pem`), path.join(options.dir, `${host}.key`)];
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${host}`],
      ...['-addext', `subjectAltName=DNS:${host}`],
    ],
    { stdio: 'pipe' },
  );
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  };
  const pipeBoth = (a: net.Socket, b: net.Socket) => {
    a.pipe(b);
    b.pipe(a);
    a.on('close', () => b.destroy());
    b.on('close', () => a.destroy());
  };

  // TLS ends here; the plain HTTP inside goes to the emulator as it came (Host: <subdomain>.zendesk.com).
  const terminator = tls.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, (secure) => {
    track(secure);
    const upstream = net.connect(options.emulatorPort, '127.0.0.1');
    track(upstream);
    pipeBoth(secure, upstream);
  });
  const terminatorPort = await listen(terminator);

  const connects: string[] = [];
  const proxy = http.createServer((_req, res) => res.writeHead(405).end('CONNECT only'));
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    track(client);
    connects.push(req.url ?? '');
    if (req.url !== `${host}:443`) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = net.connect(terminatorPort, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      pipeBoth(client, upstream);
    });
    track(upstream);
  });
  const proxyPort = await listen(proxy);

  return {
    host,
    proxyUrl: `http://127.0.0.1:${proxyPort}`,
    caFile: certFile,
    connects,
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all([terminator, proxy].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as net.AddressInfo).port;
}

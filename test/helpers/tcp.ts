import net from 'node:net';

export interface LocalServer {
  port: number;
  close(): Promise<void>;
}

async function listen(server: net.Server, sockets: Set<net.Socket>): Promise<LocalServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A server on 127.0.0.1 that accepts every connection and never sends a byte: a hung database, a black hole. */
export async function silentServer(): Promise<LocalServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume(); // read and drop whatever arrives
  });
  return listen(server, sockets);
}

export interface FreezableProxy extends LocalServer {
  /**
   * From now on every connection, open or new, goes silent: bytes in either direction are dropped and nothing is
   * closed, as when a network path turns into a black hole.
   */
  freeze(): void;
  /**
   * From now on the target is gone: every open connection is reset and new ones are closed as soon as they arrive,
   * as when a server is down or its port refuses. Clients notice at once, unlike `freeze`.
   */
  cut(): void;
  /** New connections pass again (after `freeze` or `cut`); the ones that went silent stay silent. */
  thaw(): void;
}

/** A TCP proxy on 127.0.0.1 to `target`, whose connections can be made to go silent, or be cut. */
export async function freezableProxy(target: { host: string; port: number }): Promise<FreezableProxy> {
  const sockets = new Set<net.Socket>();
  const live = new Set<() => void>();
  let frozen = false;
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) {
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    const silence = () => {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.resume();
      upstream.resume();
    };
    if (frozen) return silence();
    client.pipe(upstream);
    upstream.pipe(client);
    live.add(silence);
  });
  const listening = await listen(server, sockets);
  return {
    ...listening,
    freeze() {
      frozen = true;
      for (const silence of live) silence();
      live.clear();
    },
    cut() {
      cut = true;
      live.clear();
      for (const socket of sockets) socket.resetAndDestroy();
    },
    thaw() {
      frozen = false;
      cut = false;
    },
  };
}

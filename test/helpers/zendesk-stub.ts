import http from 'node:http';
import net from 'node:net';

/** What a stub answers one request with. */
export interface StubAnswer {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as it is. */
  body?: unknown;
}

export interface StubRequest {
  path: string;
  params: [string, string][];
  authorization: string | undefined;
}

/** A local server that answers like Zendesk, one answer per request in turn (the last one repeats). */
export interface ZendeskStub {
  url: string;
  requests: StubRequest[];
  answer(...answers: (StubAnswer | ((request: StubRequest) => StubAnswer))[]): void;
  close(): Promise<void>;
}

export async function startZendeskStub(): Promise<ZendeskStub> {
  const requests: StubRequest[] = [];
  let answers: (StubAnswer | ((request: StubRequest) => StubAnswer))[] = [{ status: 404, body: 'no answer set' }];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    const request = { path: url.pathname, params: [...url.searchParams], authorization: req.headers.authorization };
    const next = answers[Math.min(requests.length, answers.length - 1)];
    requests.push(request);
    const { status = 200, headers = {}, body = '' } = typeof next === 'function' ? next(request) : next;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const type = typeof body === 'string' ? 'text/plain' : 'application/json; charset=utf-8';
    res.writeHead(status, { 'Content-Type': type, ...headers }).end(text);
  });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    requests,
    answer: (...next) => {
      answers = next;
      requests.length = 0;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

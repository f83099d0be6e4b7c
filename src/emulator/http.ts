import type * as http from 'node:http';
import { EmulatorInputError } from './options';

export const JSON_TYPE = 'application/json; charset=utf-8';
export const TEXT_TYPE = 'text/plain; charset=utf-8';
export const HTML_TYPE = 'text/html; charset=utf-8';

const MAX_BODY_BYTES = 1024 * 1024;

/** An answer, before it is sent. */
export interface Reply {
  status: number;
  body: string;
  headers: Record<string, string>;
  /** what it delivers: the tickets of a page, or 1 for a token grant (none when absent) */
  delivered?: number;
}

export function jsonReply(status: number, body: string): Reply {
  return { status, body, headers: { 'Content-Type': JSON_TYPE } };
}

export function send(res: http.ServerResponse, { status, body, headers }: Reply): void {
  if (res.destroyed) return;
  res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** The request body as text; undefined when it is larger than MAX_BODY_BYTES (the rest is drained). */
export async function readText(req: http.IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8');
}

/** The request body as a JSON object ({} when empty); EmulatorInputError when it is anything else. */
export async function readJsonObject(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readText(req);
  if (raw === undefined) throw new EmulatorInputError(`request body larger than ${MAX_BODY_BYTES} bytes`);
  const text = raw.trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new EmulatorInputError(`body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new EmulatorInputError('body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** The origin clients reach a server listening on this address at. */
export function originFor(host: string, port: number): string {
  let shown = host;
  if (host === '0.0.0.0' || host === '') shown = '127.0.0.1';
  else if (host === '::') shown = '[::1]';
  else if (host.includes(':')) shown = `[${host}]`;
  return `http://${shown}:${port}`;
}

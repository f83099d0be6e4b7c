import { undecodableReason } from '../shared';
import { isStreamName, STREAMS, type StreamName } from '../streams/names';

/** Why an operator's reset request is invalid, or undefined when it is fine. */
export function resetCursorProblem(
  request: unknown,
  nowMs: number,
  streamsRead: readonly StreamName[] = ['tickets'],
): string | undefined {
  const undecodable = undecodableReason(request);
  if (undecodable !== undefined) return `its payload could not be decoded (${undecodable})`;
  if (typeof request !== 'object' || request === null || !('startTime' in request)) {
    return 'expected { startTime: <epoch seconds> }';
  }
  const startTime = (request as { startTime: unknown }).startTime;
  if (typeof startTime !== 'number' || !Number.isSafeInteger(startTime)) {
    return `startTime must be a whole number of epoch seconds, got ${JSON.stringify(startTime)}`;
  }
  if (startTime < 0) return `startTime must be >= 0, got ${startTime}`;
  const now = Math.floor(nowMs / 1000);
  if (startTime > now) return `startTime ${startTime} is in the future (now is ${now})`;
  const stream = (request as { stream?: unknown }).stream;
  if (stream === undefined) return undefined;
  if (!isStreamName(stream)) return `stream must be one of ${STREAMS.join(', ')}, got ${JSON.stringify(stream)}`;
  if (!streamsRead.includes(stream)) return `this export does not read ${stream} (it reads ${streamsRead.join(', ')})`;
  return undefined;
}

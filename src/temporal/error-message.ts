import { isGrpcServiceError } from '@temporalio/client';
import { messageOf } from '../shared';

/**
 * An error's message followed by what its causes add, e.g. `Failed to start Workflow: WorkflowId length exceeds
 * limit.`: the SDK wraps the server's answer in an error of its own whose message alone names no reason.
 */
export function errorMessage(err: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let e = err; e !== undefined && e !== null && !seen.has(e); e = causeOf(e)) {
    seen.add(e);
    const text = textOf(e).trim();
    if (text && !parts.some((part) => part.includes(text))) parts.push(text);
  }
  return parts.join(': ');
}

/** A gRPC error's details are the server's words; its message repeats them after a status code (`3 INVALID_ARGUMENT: …`). */
function textOf(err: unknown): string {
  return isGrpcServiceError(err) && err.details ? err.details : messageOf(err);
}

function causeOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null && 'cause' in err ? err.cause : undefined;
}

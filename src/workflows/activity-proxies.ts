import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { StreamActivities } from '../streams/contract';
import { MAX_ACTIVITY_RETRY_DELAY_MS, PERMANENT_FAILURE } from '../shared';

// The activities heartbeat every 2 s: a worker that dies mid-call is noticed in 15 s, not after start-to-close.
export const { fetchPage } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [PERMANENT_FAILURE],
  },
});

// A few quick attempts; past them the workflow waits for the sink with its own backoff, which an operator's message
// cuts short (a database that is down must not keep pause, reset or continue-as-new waiting).
const SINK_RETRY = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '10 seconds',
  maximumAttempts: 3,
};

export const { persist, loadCheckpoint } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: SINK_RETRY,
});

// The same attempts as a local activity: the worker that handles the fetched page stores it within the same workflow
// task, with no round trip through the server's task queue.
export const { persist: persistLocally } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: SINK_RETRY,
});

/**
 * fetchPage's retries, whatever failed (the call, or the SDK encoding its result), wait at least the pacing gap; a gap
 * too long to wait inside the activity leaves the retry to the workflow's durable, interruptible wait.
 */
export function fetchRetryPolicy(minGapMs: number) {
  const initialMs = Math.max(2000, Math.ceil(minGapMs));
  return {
    initialInterval: initialMs,
    maximumInterval: Math.max(60_000, initialMs),
    maximumAttempts: minGapMs > MAX_ACTIVITY_RETRY_DELAY_MS ? 1 : 5,
  };
}

// The streams around the ticket: the same timeouts and retries as the tickets' activities.
export const { fetchStreamPage } = proxyActivities<StreamActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [PERMANENT_FAILURE],
  },
});

export const { persistStream, loadStreamCheckpoint } = proxyActivities<StreamActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: SINK_RETRY,
});

export const { persistStream: persistStreamLocally } = proxyLocalActivities<StreamActivities>({
  startToCloseTimeout: '2 minutes',
  retry: SINK_RETRY,
});

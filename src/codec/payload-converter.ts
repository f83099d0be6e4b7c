import { defaultPayloadConverter, Payload, PayloadConverter } from '@temporalio/common';
import { messageOf, undecodablePayload } from '../shared';

/**
 * The default JSON converter, except that a payload it cannot read becomes the `undecodablePayload` marker. A
 * signal's payload stays in history for good: if decoding it threw, every workflow task from then on (replays
 * included) would fail and the export would stop. With the marker, the handler ignores the signal with a warning
 * and an update is rejected. This module is bundled into the workflow code (payloadConverterPath).
 */
class TolerantPayloadConverter implements PayloadConverter {
  toPayload<T>(value: T): Payload {
    return defaultPayloadConverter.toPayload(value);
  }

  fromPayload<T>(payload: Payload): T {
    try {
      return defaultPayloadConverter.fromPayload<T>(payload);
    } catch (err) {
      return undecodablePayload(messageOf(err)) as T;
    }
  }
}

export const payloadConverter: PayloadConverter = new TolerantPayloadConverter();

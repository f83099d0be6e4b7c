import { DataConverter } from '@temporalio/common';
import { GzipPayloadCodec } from './gzip-codec';

/** The same on worker and client, or neither could read what the other wrote. */
export const dataConverter: DataConverter = { payloadCodecs: [new GzipPayloadCodec()] };

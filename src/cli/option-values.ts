import { InvalidArgumentError } from 'commander';
import { readDecimal } from '../config/values';
import { durationSeconds } from '../config/values';
import { EXPORT_APIS, ExportApi } from '../shared';
import {
  isStreamName,
  readStreamList,
  readStreamStartTimes,
  STREAMS,
  SUPPORT_TYPE_SCOPES,
  type AroundStream,
  type StreamName,
  type SupportTypeScope,
} from '../streams/names';

/** Reads an option's value; `flag` (`--start-time`) names the option in the message when the value is wrong. */
export type ValueParser<T> = (raw: string, flag: string) => T;

/** `max` may be a function, for a bound that moves (now). */
export function wholeNumber({ min, max }: { min: number; max?: number | (() => number) }): ValueParser<number> {
  return (raw, flag) => {
    if (!/^\d+$/.test(raw.trim())) throw new InvalidArgumentError(`${flag} must be a whole number, got "${raw}"`);
    const n = Number(raw);
    const upper = typeof max === 'function' ? max() : max;
    if (!Number.isSafeInteger(n) || n < min || (upper !== undefined && n > upper)) {
      throw new InvalidArgumentError(`${flag} must be between ${min} and ${upper ?? 'any'}, got ${raw}`);
    }
    return n;
  };
}

/** An epoch second that has already passed. */
export const epochSeconds = wholeNumber({ min: 0, max: () => Math.floor(Date.now() / 1000) });

/** A decimal number as the environment accepts it: `0x10`, `1e1` or an empty string are not numbers here. */
export function decimal(min: number, unit = 'seconds'): ValueParser<number> {
  return (raw, flag) => {
    const n = readDecimal(raw.trim(), min);
    if (n === undefined) throw new InvalidArgumentError(`${flag} must be a number of ${unit} >= ${min}, got "${raw}"`);
    return n;
  };
}

/** A duration (`1 hour`, `30 minutes`) to whole seconds >= min, as the environment reads it. */
export function duration(min: number): ValueParser<number> {
  const schema = durationSeconds(min);
  return (raw, flag) => {
    const read = schema.safeParse(raw);
    if (!read.success) throw new InvalidArgumentError(`${flag} ${read.error.issues[0].message}`);
    return read.data;
  };
}

export const exportApi: ValueParser<ExportApi> = (raw, flag) => {
  const api = EXPORT_APIS.find((name) => name === raw);
  if (!api) throw new InvalidArgumentError(`${flag} must be one of ${EXPORT_APIS.join(', ')}, got "${raw}"`);
  return api;
};

/** `users, groups` → ['users', 'groups']. */
export const commaList: ValueParser<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** `tickets,users` or `all` → the streams, in their canonical order. */
export const streamList: ValueParser<StreamName[]> = (raw, flag) => {
  const read = readStreamList(raw);
  if ('problem' in read) throw new InvalidArgumentError(`${flag} ${read.problem}`);
  return read.streams;
};

export const streamName: ValueParser<StreamName> = (raw, flag) => {
  if (!isStreamName(raw)) throw new InvalidArgumentError(`${flag} must be one of ${STREAMS.join(', ')}, got "${raw}"`);
  return raw;
};

/** `users=1700000000,organizations=0`. */
export const streamStartTimes: ValueParser<Partial<Record<AroundStream, number>>> = (raw, flag) => {
  const read = readStreamStartTimes(raw, Math.floor(Date.now() / 1000));
  if ('problem' in read) throw new InvalidArgumentError(`${flag}: ${read.problem}`);
  return read.startTimes;
};

export const supportTypeScope: ValueParser<SupportTypeScope> = (raw, flag) => {
  const scope = SUPPORT_TYPE_SCOPES.find((name) => name === raw);
  if (!scope) throw new InvalidArgumentError(`${flag} must be one of ${SUPPORT_TYPE_SCOPES.join(', ')}, got "${raw}"`);
  return scope;
};

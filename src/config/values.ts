import { z } from 'zod';
import { msToNumber } from '@temporalio/common/lib/time';
import { readStreamList, SUPPORT_TYPE_SCOPES, type StreamName } from '../streams/names';

// How a variable's text becomes a value: the parsers every loader shares, and the one error that names every problem.

export type Env = Record<string, string | undefined>;

export const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

export const httpUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const url = new URL(v);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL such as https://acme.zendesk.com')
  .transform((v) => v.replace(/\/+$/, ''));

export const subdomain = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]*$/i, 'must be a Zendesk subdomain such as "acme" (for acme.zendesk.com)');

/** A plain decimal >= min (no `0x10`, `1e1` or empty text), or undefined: the CLI's flags follow the same rule. */
export function readDecimal(text: string, min: number): number | undefined {
  const n = Number(text);
  return /^\d+(\.\d+)?$/.test(text) && n >= min ? n : undefined;
}

export function numberOf(unit: string, min: number) {
  return z
    .string()
    .trim()
    .transform((v, ctx) => {
      const n = readDecimal(v, min);
      if (n === undefined) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a number of ${unit} >= ${min}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });
}

export function seconds(defaultValue: number, { min }: { min: number }) {
  return z.string().default(String(defaultValue)).pipe(numberOf('seconds', min));
}

/**
 * A duration as Temporal writes them (`1 hour`, `30 minutes`, `90s`), to whole seconds >= min. Plain digits are
 * milliseconds in that notation, so they are refused: the unit is always written.
 */
export function durationSeconds(min: number) {
  return z
    .string()
    .trim()
    .transform((v, ctx) => {
      let ms = NaN;
      try {
        ms = /^\d+(\.\d+)?$/.test(v) ? NaN : msToNumber(v as `${number} hours`);
      } catch {
        // not a duration: reported below
      }
      const s = Math.round(ms / 1000);
      if (!Number.isFinite(ms) || s < min) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          message: `must be a duration such as "1 hour" or "30 minutes", at least ${min} s, got "${v}"`,
        });
        return z.NEVER;
      }
      return s;
    });
}

export const epochSeconds = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `must be a whole number of epoch seconds >= 0, got "${v}"`,
      });
      return z.NEVER;
    }
    if (n > Date.now() / 1000) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must not be in the future, got ${v}` });
      return z.NEVER;
    }
    return n;
  });

export const port = z
  .string()
  .trim()
  .refine((v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535, 'must be a port number (1-65535)')
  .transform(Number);

/** A list of streams as an operator writes it (`tickets,users`, `all`), read once for the environment and the file. */
export function streamList(text: string, context: z.RefinementCtx): StreamName[] {
  const read = readStreamList(text);
  if ('streams' in read) return read.streams;
  context.addIssue({ code: z.ZodIssueCode.custom, message: read.problem });
  return z.NEVER;
}

export const supportTypeScope = z.enum(SUPPORT_TYPE_SCOPES, {
  errorMap: () => ({ message: `must be one of ${SUPPORT_TYPE_SCOPES.join(', ')}` }),
});

export function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text;
  } catch {
    return false;
  }
}

function describe(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`);
}

/** Parses every schema against env and collects all problems before throwing. */
export function parseAll<T extends Record<string, z.ZodTypeAny>>(
  env: Env,
  schemas: T,
): { values: { [K in keyof T]: z.infer<T[K]> }; problems: string[] } {
  const problems: string[] = [];
  const values = {} as { [K in keyof T]: z.infer<T[K]> };
  // An empty variable (VAR= or compose's ${VAR:-}) means "not set".
  env = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  for (const key of Object.keys(schemas) as (keyof T)[]) {
    const result = schemas[key].safeParse(env);
    if (result.success) values[key] = result.data;
    else problems.push(...describe(result.error));
  }
  return { values, problems };
}

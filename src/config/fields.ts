/**
 * Leaf builders for the configuration schema. Values that came from `${VAR}` interpolation
 * arrive boxed (`Interpolated`) and may stand for numbers and booleans; literal TOML values
 * must already have the right type.
 */
import * as z from 'zod';
import { Interpolated } from './interpolate.js';

// ---- values that came from the environment -------------------------------

const NUMERIC = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Unboxes an env-derived string; other values pass through untouched. */
export const asString = (v: unknown): unknown => (v instanceof Interpolated ? v.value : v);

/** Env-derived strings may stand for numbers; literal TOML strings may not. */
export const asNumber = (v: unknown): unknown => {
  if (!(v instanceof Interpolated)) return v;
  const s = v.value.trim();
  return NUMERIC.test(s) ? Number(s) : v.value;
};

export const asBoolean = (v: unknown): unknown => {
  if (!(v instanceof Interpolated)) return v;
  const s = v.value.trim().toLowerCase();
  return s === 'true' ? true : s === 'false' ? false : v.value;
};

// ---- leaf builders -------------------------------------------------------

export const bool = () => z.preprocess(asBoolean, z.boolean({ error: 'expected true or false' }));

export const str = (expected = 'expected a string') =>
  z.preprocess(asString, z.string({ error: expected }));

export const nonEmpty = (expected: string) =>
  z.preprocess(asString, z.string({ error: expected }).min(1, { error: expected }));

export function wholeNumber(min: number, max?: number) {
  const e =
    max === undefined
      ? `expected a whole number >= ${min}`
      : `expected a whole number between ${min} and ${max}`;
  const base = z.number({ error: e }).int({ error: e }).min(min, { error: e });
  return z.preprocess(asNumber, max === undefined ? base : base.max(max, { error: e }));
}

export function positiveNumber() {
  const e = 'expected a number > 0';
  return z.preprocess(asNumber, z.number({ error: e }).positive({ error: e }));
}

/**
 * One of `values`, in any case (`backend = "S3"` as `compression = "zstd"` is): the value
 * becomes the canonical spelling, so the rest of the code compares exactly.
 */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  const e = `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  const canonical = (v: unknown): unknown => {
    const s = asString(v);
    if (typeof s !== 'string') return s;
    return values.find((c) => c.toLowerCase() === s.toLowerCase()) ?? s;
  };
  return z.preprocess(canonical, z.enum(values, { error: e }));
}

/** A strict table that defaults to `{}` so nested defaults still apply. */
export function table<T extends z.core.$ZodLooseShape>(shape: T) {
  return z
    .strictObject(shape, {
      // unrecognized_keys falls through: load.ts reports one line per key.
      error: (iss) => (iss.code === 'invalid_type' ? 'expected a table' : undefined),
    })
    .prefault({} as z.input<z.ZodObject<T, z.core.$strict>>);
}

/** A strict table that stays `undefined` when absent: for sections whose presence means "apply". */
export function optionalTable<T extends z.core.$ZodLooseShape>(shape: T) {
  return z
    .strictObject(shape, { error: (iss) => (iss.code === 'invalid_type' ? 'expected a table' : undefined) })
    .optional();
}

/** A table of string values with free keys (e.g. object tags). */
export function stringMap(expected = 'expected a table of strings') {
  return z.record(z.string(), z.preprocess(asString, z.string({ error: expected })), { error: expected });
}

/** Adds a custom issue when `problem` returns a message. */
export function checked<S extends z.ZodType<string>>(schema: S, problem: (s: string) => string | undefined) {
  return schema.superRefine((s, ctx) => {
    const p = problem(s);
    if (p !== undefined) ctx.addIssue({ code: 'custom', message: p, input: s });
  });
}


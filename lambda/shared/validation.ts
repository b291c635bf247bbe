/**
 * A small typed schema for the functions' JSON events. Each field parses one property, appends a
 * readable problem (`count must be an integer from 1 to 100, got 0`) when the value does not fit,
 * and the object schema reports every problem at once. No dependency: the bundles stay small.
 */
import { EventValidationError } from './errors';

export interface Field<T> {
  /** Whether the property may be absent. */
  readonly optional: boolean;
  /** What the field accepts, for messages: `an integer from 1 to 100`. */
  readonly expects: string;
  /** Parses a present value; on a problem, pushes a message and returns `undefined`. */
  parse(value: unknown, name: string, problems: string[]): T | undefined;
  /** The value when absent (optional fields only). */
  readonly defaultValue?: T;
}

type Shape = Record<string, Field<unknown>>;
export type Parsed<S extends Shape> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

const show = (value: unknown): string => {
  if (value === undefined) return 'undefined';
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
};

function field<T>(expects: string, check: (value: unknown) => value is T): Field<T> {
  return {
    optional: false,
    expects,
    parse(value, name, problems) {
      if (check(value)) return value;
      problems.push(`${name} must be ${expects}, got ${show(value)}`);
      return undefined;
    },
  };
}

export function string(options: { pattern: RegExp; expects: string }): Field<string> {
  return field(
    options.expects,
    (v): v is string => typeof v === 'string' && options.pattern.test(v),
  );
}

export function boolean(): Field<boolean> {
  return field('true or false', (v): v is boolean => typeof v === 'boolean');
}

export function integer(min: number, max: number, unit = ''): Field<number> {
  return field(
    `an integer from ${min} to ${max}${unit}`,
    (v): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max,
  );
}

/** A number in `(min, max]` when `minExclusive`, else `[min, max]`. */
export function number(
  min: number,
  max: number,
  options: { minExclusive?: boolean } = {},
): Field<number> {
  const lower = options.minExclusive ? `above ${min}` : `from ${min}`;
  return field(
    `a number ${lower} to ${max}`,
    (v): v is number =>
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (options.minExclusive ? v > min : v >= min) &&
      v <= max,
  );
}

/** Exactly one JSON value, e.g. `exactly(true)`. */
export function exactly<const T extends string | number | boolean>(value: T): Field<T> {
  return field(JSON.stringify(value), (v): v is T => v === value);
}

export function oneOf<const T extends string>(allowed: readonly T[], why = ''): Field<T> {
  return field(
    `one of ${allowed.join(', ')}${why}`,
    (v): v is T => typeof v === 'string' && (allowed as readonly string[]).includes(v),
  );
}

export function list<T>(item: Field<T>, options: { min: number; max: number }): Field<T[]> {
  return {
    optional: false,
    expects: `a list of ${options.min}-${options.max} items, each ${item.expects}`,
    parse(value, name, problems) {
      if (!Array.isArray(value) || value.length < options.min || value.length > options.max) {
        problems.push(`${name} must be ${this.expects}, got ${show(value)}`);
        return undefined;
      }
      const before = problems.length;
      const parsed = value.map((v, i) => item.parse(v, `${name}[${i}]`, problems));
      return problems.length === before ? (parsed as T[]) : undefined;
    },
  };
}

/** Makes a field optional. With a default, the parsed value is never `undefined`. */
export function optional<T>(inner: Field<T>): Field<T | undefined>;
export function optional<T>(inner: Field<T>, defaultValue: T): Field<T>;
export function optional<T>(inner: Field<T>, defaultValue?: T): Field<T | undefined> {
  return { ...inner, optional: true, defaultValue };
}

/**
 * Parses `input` as an object of `shape`. Unknown properties are refused (a typo such as `dryrun`
 * must never silently become a real run) unless `allowUnknown`. `refine` adds cross-field checks;
 * it runs only when every field parsed. Throws one EventValidationError listing every problem.
 */
export function parseObject<S extends Shape>(
  shape: S,
  input: unknown,
  options: {
    readonly allowUnknown?: boolean;
    readonly refine?: (parsed: Parsed<S>, problems: string[]) => void;
  } = {},
): Parsed<S> {
  const problems: string[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new EventValidationError([
      `event must be a JSON object, got ${Array.isArray(input) ? 'a list' : show(input)}`,
    ]);
  }
  const record = input as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(shape)) {
    const value = record[name];
    if (value === undefined) {
      if (!spec.optional) problems.push(`${name} is required: ${spec.expects}`);
      else if (spec.defaultValue !== undefined) out[name] = spec.defaultValue;
      continue;
    }
    const parsed = spec.parse(value, name, problems);
    if (parsed !== undefined) out[name] = parsed;
  }
  if (!options.allowUnknown) {
    const unknown = Object.keys(record).filter((k) => !(k in shape));
    if (unknown.length > 0) {
      problems.push(
        `${unknown.join(', ')} ${unknown.length === 1 ? 'is not an allowed field' : 'are not allowed fields'}; ` +
          `allowed: ${Object.keys(shape).join(', ')}`,
      );
    }
  }
  if (problems.length === 0) options.refine?.(out as Parsed<S>, problems);
  if (problems.length > 0) throw new EventValidationError(problems);
  return out as Parsed<S>;
}

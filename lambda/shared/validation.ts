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

/** How deep an event may nest (objects and lists). Deeper events are refused before any parsing. */
export const MAX_EVENT_DEPTH = 8;
/** How many characters of a value or key name a message quotes. */
const SHOWN_CHARS = 60;

/**
 * A value as a message quotes it: at most SHOWN_CHARS characters of JSON, built iteratively and
 * stopping as soon as enough is written, so neither a huge nor a deeply nested value can make the
 * formatter slow or overflow the stack.
 */
export const show = (value: unknown): string => {
  if (value === undefined) return 'undefined';
  let out = '';
  // A stack of what is left to write: values, or literal text (closing brackets, commas).
  const todo: ({ text: string } | { value: unknown })[] = [{ value }];
  while (todo.length > 0 && out.length <= SHOWN_CHARS) {
    const next = todo.pop() as { text: string } | { value: unknown };
    if ('text' in next) {
      out += next.text;
      continue;
    }
    const v = next.value;
    if (Array.isArray(v)) {
      out += '[';
      todo.push({ text: ']' });
      for (let i = Math.min(v.length, SHOWN_CHARS) - 1; i >= 0; i--) {
        todo.push({ value: v[i] as unknown });
        if (i > 0) todo.push({ text: ',' });
      }
    } else if (typeof v === 'object' && v !== null) {
      out += '{';
      todo.push({ text: '}' });
      const keys = Object.keys(v).slice(0, SHOWN_CHARS);
      for (let i = keys.length - 1; i >= 0; i--) {
        todo.push({ value: (v as Record<string, unknown>)[keys[i]] });
        todo.push({ text: `${JSON.stringify(keys[i].slice(0, SHOWN_CHARS))}:` });
        if (i > 0) todo.push({ text: ',' });
      }
    } else if (typeof v === 'string') {
      out += JSON.stringify(v.slice(0, SHOWN_CHARS + 1));
    } else {
      out += String(JSON.stringify(v) ?? String(v));
    }
  }
  return out.length > SHOWN_CHARS || todo.length > 0 ? `${out.slice(0, SHOWN_CHARS - 3)}...` : out;
};

/**
 * A property name as a message names it: as is when it is a plain short name, else escaped (JSON
 * string syntax) and cut to SHOWN_CHARS, so a huge or control-character name is never echoed whole.
 */
export const showKey = (key: string): string =>
  /^[A-Za-z0-9_$.-]{1,60}$/.test(key)
    ? key
    : key.length > SHOWN_CHARS
      ? `${JSON.stringify(key.slice(0, SHOWN_CHARS - 3))}... (${key.length} characters)`
      : JSON.stringify(key);

/** The nesting depth of a JSON-like value, counted iteratively and stopping past `limit`. */
export function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const todo: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (todo.length > 0) {
    const { v, depth } = todo.pop() as { v: unknown; depth: number };
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > limit) return deepest;
    for (const child of Object.values(v)) todo.push({ v: child as unknown, depth: depth + 1 });
  }
  return deepest;
}

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
  if (depthOf(input, MAX_EVENT_DEPTH) > MAX_EVENT_DEPTH) {
    throw new EventValidationError([
      `event must nest at most ${MAX_EVENT_DEPTH} levels of objects and lists; it nests deeper`,
    ]);
  }
  const record = input as Record<string, unknown>;
  // Only own properties count: `constructor` or `__proto__` must never be found on a prototype.
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [name, spec] of Object.entries(shape)) {
    const value = Object.hasOwn(record, name) ? record[name] : undefined;
    if (value === undefined) {
      if (!spec.optional) problems.push(`${name} is required: ${spec.expects}`);
      else if (spec.defaultValue !== undefined) out[name] = spec.defaultValue;
      continue;
    }
    const parsed = spec.parse(value, name, problems);
    if (parsed !== undefined) out[name] = parsed;
  }
  if (!options.allowUnknown) {
    const unknown = Object.keys(record).filter((k) => !Object.hasOwn(shape, k));
    if (unknown.length > 0) {
      const shown = unknown.slice(0, 5).map(showKey);
      if (unknown.length > 5) shown.push(`and ${unknown.length - 5} more`);
      problems.push(
        `${shown.join(', ')} ${unknown.length === 1 ? 'is not an allowed field' : 'are not allowed fields'}; ` +
          `allowed: ${Object.keys(shape).join(', ')}`,
      );
    }
  }
  if (problems.length === 0) options.refine?.(out as Parsed<S>, problems);
  if (problems.length > 0) throw new EventValidationError(problems);
  return { ...out } as Parsed<S>;
}

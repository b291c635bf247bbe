/**
 * A strict JSON reader for config files. `JSON.parse` keeps the last of two equal keys without a
 * word, reports positions only on some engines, and turns `1e400` into Infinity (printed as
 * `null`); this one refuses duplicates, says the line and column of every syntax error, and keeps
 * each number's text as written so messages can quote it.
 */

/** A syntax error at a 1-based line and column. */
export class JsonSyntaxError extends Error {
  public override readonly name = 'JsonSyntaxError';

  constructor(
    public readonly reason: string,
    public readonly line: number,
    public readonly column: number,
  ) {
    super(`${reason} at line ${line}, column ${column}`);
  }
}

export interface ParsedJson {
  readonly value: unknown;
  /** Each number's text as written, by its field path (`sizing.maxTasks`, `regions[0].x`). */
  readonly numbers: ReadonlyMap<string, string>;
}

/** How deep objects and arrays may nest; a config needs 4 levels. */
export const MAX_DEPTH = 32;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * The field path of `key` under `parent`, as messages name it: `a.b` for plain keys and
 * `a["odd key"]` (escaped and cut) for any other.
 */
export function joinField(parent: string, key: string): string {
  if (IDENTIFIER.test(key) && key.length <= 40) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${quote(key)}]`;
}

/**
 * A value for a message: JSON, with anything outside printable ASCII escaped (so a terminal shows
 * no control or bidi characters), cut to `max` characters.
 */
export function quote(value: unknown, max = 60): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = `a ${typeof value}`;
  }
  text = text.replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  if (text.length <= max) return text;
  const length = typeof value === 'string' ? value.length : text.length;
  return `${text.slice(0, max - 3)}... (${length} characters)`;
}

const WHITESPACE = /[ \t\n\r]*/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};
const LITERALS: readonly [string, unknown][] = [
  ['true', true],
  ['false', false],
  ['null', null],
];

class Parser {
  private i = 0;
  public readonly numbers = new Map<string, string>();

  constructor(private readonly text: string) {
    if (text.startsWith('\uFEFF')) this.i = 1; // a UTF-8 byte order mark is accepted
  }

  parse(): unknown {
    this.skip();
    if (this.i >= this.text.length) {
      this.fail('the file is empty; write {} to take every default');
    }
    const value = this.value('', 0);
    this.skip();
    if (this.i < this.text.length) this.fail(`expected the end of the file, found ${this.found()}`);
    return value;
  }

  private value(path: string, depth: number): unknown {
    this.skip();
    const c = this.text[this.i];
    if (c === '{' || c === '[') {
      if (depth >= MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
      return c === '{' ? this.object(path, depth + 1) : this.array(path, depth + 1);
    }
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number(path);
    for (const [word, value] of LITERALS) {
      if (this.text.startsWith(word, this.i)) {
        this.i += word.length;
        return value;
      }
    }
    const hint =
      c === "'"
        ? ' (JSON strings take double quotes)'
        : c === '/'
          ? ' (JSON has no comments)'
          : (c === '}' || c === ']') && this.afterComma()
            ? ' (a comma too many?)'
            : '';
    return this.fail(`expected a value, found ${this.found()}${hint}`);
  }

  private object(path: string, depth: number): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const seen = new Map<string, number>();
    this.i += 1;
    this.skip();
    if (this.text[this.i] === '}') {
      this.i += 1;
      return result;
    }
    for (;;) {
      this.skip();
      if (this.text[this.i] !== '"') {
        const hint = this.text[this.i] === '}' && this.afterComma() ? ' (a comma too many?)' : '';
        this.fail(`expected a key in double quotes, found ${this.found()}${hint}`);
      }
      const keyAt = this.i;
      const key = this.string();
      const first = seen.get(key);
      if (first !== undefined) {
        const { line, column } = position(this.text, first);
        this.fail(
          `duplicate key ${quote(key)} (first at line ${line}, column ${column}); JSON would keep only the last one, so merge them`,
          keyAt,
        );
      }
      seen.set(key, keyAt);
      this.skip();
      this.expect(':');
      // defineProperty, so that a key such as "__proto__" is a plain field like any other
      Object.defineProperty(result, key, {
        value: this.value(joinField(path, key), depth),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.skip();
      if (this.text[this.i] === ',') {
        this.i += 1;
      } else if (this.text[this.i] === '}') {
        this.i += 1;
        return result;
      } else {
        this.fail(`expected "," or "}", found ${this.found()}`);
      }
    }
  }

  private array(path: string, depth: number): unknown[] {
    const result: unknown[] = [];
    this.i += 1;
    this.skip();
    if (this.text[this.i] === ']') {
      this.i += 1;
      return result;
    }
    for (;;) {
      result.push(this.value(`${path}[${result.length}]`, depth));
      this.skip();
      if (this.text[this.i] === ',') {
        this.i += 1;
      } else if (this.text[this.i] === ']') {
        this.i += 1;
        return result;
      } else {
        this.fail(`expected "," or "]", found ${this.found()}`);
      }
    }
  }

  private string(): string {
    const start = this.i;
    this.i += 1;
    let out = '';
    for (;;) {
      const c = this.text[this.i];
      if (c === undefined) this.fail('a string is not closed with "', start);
      if (c === '"') {
        this.i += 1;
        return out;
      }
      if (c === '\\') {
        const e = this.text[this.i + 1];
        if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.i + 2, this.i + 6))) {
          out += String.fromCharCode(parseInt(this.text.slice(this.i + 2, this.i + 6), 16));
          this.i += 6;
        } else if (e !== undefined && e !== 'u' && ESCAPES[e] !== undefined) {
          out += ESCAPES[e];
          this.i += 2;
        } else {
          this.fail(
            `invalid escape in a string; allowed are \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX`,
          );
        }
      } else if (c < ' ') {
        this.fail(`${this.found()} inside a string; write it as an escape such as \\n`);
      } else {
        out += c;
        this.i += 1;
      }
    }
  }

  private number(path: string): number {
    NUMBER.lastIndex = this.i;
    const match = NUMBER.exec(this.text);
    if (match === null) this.fail(`expected a number, found ${this.found()}`);
    const raw = match[0];
    const next = this.text[this.i + raw.length];
    if (next !== undefined && /[0-9A-Za-z.+-]/.test(next)) {
      this.fail(
        `invalid number ${quoteRaw(raw + next)}: JSON numbers have no leading zeros, hex or trailing text`,
      );
    }
    const value = Number(raw);
    if (!Number.isFinite(value)) this.fail(`the number ${quoteRaw(raw)} is too large`);
    this.i += raw.length;
    this.numbers.set(path, raw);
    return value;
  }

  private expect(c: string): void {
    if (this.text[this.i] !== c) this.fail(`expected "${c}", found ${this.found()}`);
    this.i += 1;
  }

  private skip(): void {
    WHITESPACE.lastIndex = this.i;
    WHITESPACE.exec(this.text);
    this.i = WHITESPACE.lastIndex;
  }

  /** Whether the last character before the cursor, white space aside, is a comma. */
  private afterComma(): boolean {
    return /,[ \t\n\r]*$/.test(this.text.slice(Math.max(0, this.i - 200), this.i));
  }

  /** What is at the cursor, for a message. */
  private found(): string {
    const code = this.text.codePointAt(this.i);
    if (code === undefined) return 'the end of the file';
    if (code >= 0x21 && code <= 0x7e) return `'${String.fromCodePoint(code)}'`;
    return `the character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  }

  private fail(reason: string, at = this.i): never {
    const { line, column } = position(this.text, at);
    throw new JsonSyntaxError(reason, line, column);
  }
}

function quoteRaw(raw: string): string {
  return raw.length > 40 ? `${raw.slice(0, 37)}...` : raw;
}

/** The 1-based line and column (in characters) of offset `at`. */
function position(text: string, at: number): { line: number; column: number } {
  const before = text.slice(0, at);
  const lineStart = before.lastIndexOf('\n') + 1;
  return {
    line: before.split('\n').length,
    column: [...before.slice(lineStart)].length + 1,
  };
}

/**
 * Parses `text` as strict JSON (RFC 8259, plus a leading byte order mark), refusing duplicate
 * keys, numbers too large for a double, and nesting deeper than {@link MAX_DEPTH}.
 * @throws JsonSyntaxError naming the line and column
 */
export function parseStrictJson(text: string): ParsedJson {
  const parser = new Parser(text);
  const value = parser.parse();
  return { value, numbers: parser.numbers };
}

/**
 * The offset of the first byte that is not part of valid UTF-8, or -1 when all of it is.
 */
export function firstInvalidUtf8Byte(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : 4;
    if (b >= 0x80 && (b < 0xc2 || b > 0xf4)) return i;
    if (length > 1) {
      try {
        decoder.decode(bytes.subarray(i, i + length));
      } catch {
        return i;
      }
      if (i + length > bytes.length) return i;
    }
    i += length;
  }
  return -1;
}

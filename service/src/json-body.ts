import type { FastifyInstance } from 'fastify';

import { HttpError } from './errors';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const LOSSY_UTF8 = new TextDecoder('utf-8');
/** U+FFFD, as UTF-8: present in the raw body only if the client sent it on purpose. */
const REPLACEMENT_BYTES = Buffer.from([0xef, 0xbf, 0xbd]);
/** A UTF-16 surrogate without its other half (what `String.prototype.isWellFormed` rejects). */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Paths (`body/name`, `body/tags/0`) of the strings in `value` that satisfy `bad`. */
function stringPaths(value: unknown, bad: (text: string) => boolean, path = 'body'): string[] {
  if (typeof value === 'string') return bad(value) ? [path] : [];
  if (Array.isArray(value)) {
    return value.flatMap((entry, index) => stringPaths(entry, bad, `${path}/${index}`));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, entry]) => [
      ...(bad(key) ? [`${path} (a key)`] : []),
      ...stringPaths(entry, bad, `${path}/${key}`),
    ]);
  }
  return [];
}

/** Names the fields that held the invalid bytes, when the rest of the body parses. */
function invalidUtf8Error(body: Buffer): HttpError {
  let fields: string[] = [];
  if (!body.includes(REPLACEMENT_BYTES)) {
    try {
      fields = stringPaths(JSON.parse(LOSSY_UTF8.decode(body)), (text) => text.includes('\ufffd'));
    } catch {
      // The invalid bytes are outside any string, or the JSON is broken too.
    }
  }
  return new HttpError(
    400,
    'invalid_utf8',
    fields.length > 0
      ? `${fields.join(', ')} must be valid UTF-8; the request body has invalid byte sequences there`
      : 'the request body must be valid UTF-8 JSON; it has invalid byte sequences',
  );
}

/**
 * The JSON body parser, made strict about encoding: Fastify's own decodes invalid UTF-8 to U+FFFD
 * and the service would store that. Here invalid UTF-8, and strings with lone surrogates (`\ud800`,
 * which no UTF-8 can hold), are a 400 naming the field; everything else is Fastify's parser (empty
 * body, malformed JSON, prototype poisoning).
 */
export function registerStrictJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    let text: string;
    try {
      text = STRICT_UTF8.decode(raw);
    } catch {
      done(invalidUtf8Error(raw), undefined);
      return;
    }
    void parseJson(request, text, (error, value) => {
      if (error) {
        done(error, undefined);
        return;
      }
      const unpaired = stringPaths(value, (entry) => UNPAIRED_SURROGATE.test(entry));
      if (unpaired.length > 0) {
        done(
          new HttpError(
            400,
            'invalid_unicode',
            `${unpaired.join(', ')} must be well-formed Unicode; it has an unpaired surrogate escape`,
          ),
          undefined,
        );
        return;
      }
      done(null, value);
    });
  });
}

/** What the response hook learned about one response's body. */
export interface ResponseCheck {
  readonly bytes: number;
  /** A response that should carry a body and carries none. */
  readonly zeroLength: boolean;
  /** A body that is not the JSON every API response promises. */
  readonly malformed: boolean;
}

/**
 * Inspects a serialized response body. Every response of this service is JSON, so a body that
 * does not parse, or arrives under another content type, is malformed; an empty one is
 * zero-length unless the status or method has no body (204, 304, HEAD). A body the service's own
 * JSON serializer produced (`serializedJson`) is not parsed again: only its length is checked.
 */
export function checkResponse(
  payload: unknown,
  contentType: unknown,
  statusCode: number,
  method: string,
  serializedJson = false,
): ResponseCheck {
  const bodyless = statusCode === 204 || statusCode === 304 || method === 'HEAD';
  let text: string | undefined;
  if (typeof payload === 'string') {
    text = payload;
  } else if (Buffer.isBuffer(payload)) {
    text = payload.toString('utf8');
  } else if (payload === null || payload === undefined) {
    text = '';
  }
  if (text === undefined) {
    // A stream: its length is not known here. The service sends none.
    return { bytes: 0, zeroLength: false, malformed: false };
  }
  const bytes = Buffer.byteLength(text);
  if (bytes === 0) {
    return { bytes, zeroLength: !bodyless, malformed: false };
  }
  if (typeof contentType !== 'string' || !contentType.startsWith('application/json')) {
    return { bytes, zeroLength: false, malformed: true };
  }
  if (serializedJson) {
    return { bytes, zeroLength: false, malformed: false };
  }
  try {
    JSON.parse(text);
    return { bytes, zeroLength: false, malformed: false };
  } catch {
    return { bytes, zeroLength: false, malformed: true };
  }
}

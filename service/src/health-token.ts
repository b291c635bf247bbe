/**
 * The readiness token rule, shared by the CDK config (lib/config-validation.ts) and the service
 * (service/src/config.ts), so a token that synthesizes is a token the service starts with. It lives
 * under service/ because the image's build context holds only service/ (see .dockerignore), and it
 * imports nothing so that both sides can bundle it.
 */

/** The token Route 53 HTTPS_STR_MATCH checks and the container health check search for. */
export const DEFAULT_HEALTH_TOKEN = '"status":"ready"';

/** The longest token the service accepts (Route 53 itself takes up to 255 characters). */
export const HEALTH_TOKEN_MAX_LENGTH = 200;

/**
 * What is wrong with `token`, one sentence per problem without the field's name (empty when it
 * is fine). `show` renders the token the way the caller quotes values.
 *
 * The ready body is JSON, so the token must survive JSON.stringify unchanged: either the default
 * (which the body's first field spells out) or plain text without quotes, backslashes or control
 * characters. Route 53 compares bytes, so the text is ASCII; the service trims its environment,
 * so the token must not start or end with a space.
 */
export function healthTokenProblems(token: string, show: (value: string) => string): string[] {
  if (token === DEFAULT_HEALTH_TOKEN) return [];
  const problems: string[] = [];
  if (token.length === 0) {
    problems.push('must not be empty: an empty token would let an empty 200 pass');
    return problems;
  }
  const code = (c: string) => c.charCodeAt(0);
  if ([...token].some((c) => c === '"' || c === '\\' || code(c) < 0x20 || code(c) === 0x7f)) {
    problems.push(
      `must be ${DEFAULT_HEALTH_TOKEN} or plain text without quotes, backslashes or control characters, got ${show(token)}`,
    );
  }
  if ([...token].some((c) => code(c) > 0x7f)) {
    problems.push(
      `must be ASCII text (Route 53 matches the body byte for byte), got ${show(token)}`,
    );
  }
  if (token.trim() !== token) {
    problems.push(
      `must not start or end with white space (the service trims its environment), got ${show(token)}`,
    );
  }
  if (token.length > HEALTH_TOKEN_MAX_LENGTH) {
    problems.push(`must be at most ${HEALTH_TOKEN_MAX_LENGTH} characters, got ${token.length}`);
  }
  return problems;
}

/** How a check came out. Only `fail` makes `npm run doctor` exit non-zero. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One line of the doctor's report. */
export interface CheckResult {
  /** Stable id, e.g. `node` or `bootstrap:eu-west-1`; tests and scripts match on it. */
  readonly id: string;
  /** What was checked, as the report shows it, e.g. `eu-west-1 CDK bootstrap`. */
  readonly title: string;
  readonly status: CheckStatus;
  /** What was found. */
  readonly detail: string;
  /** What to do about it; set on every `fail` and `warn`. */
  readonly fix?: string;
  /** Why the check did not run; set on every `skip`. */
  readonly skipReason?: string;
}

export const ok = (id: string, title: string, detail: string): CheckResult => ({
  id,
  title,
  status: 'ok',
  detail,
});

export const warn = (id: string, title: string, detail: string, fix: string): CheckResult => ({
  id,
  title,
  status: 'warn',
  detail,
  fix,
});

export const fail = (id: string, title: string, detail: string, fix: string): CheckResult => ({
  id,
  title,
  status: 'fail',
  detail,
  fix,
});

/** `detail` defaults to `not checked: <reason>`. */
export const skip = (id: string, title: string, reason: string, detail?: string): CheckResult => ({
  id,
  title,
  status: 'skip',
  detail: detail ?? `not checked: ${reason}`,
  skipReason: reason,
});

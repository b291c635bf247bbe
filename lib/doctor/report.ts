import { CheckResult, CheckStatus } from './check';

const LABEL: Record<CheckStatus, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/** 1 when any check failed, else 0: warnings and skipped checks never fail the doctor. */
export function exitCodeFor(results: readonly CheckResult[]): 0 | 1 {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

/** What to do so that checks skipped for `reason` run next time. */
function nextStep(reason: string): string | undefined {
  if (/credentials/i.test(reason)) {
    return 'configure credentials (aws configure, aws sso login, or AWS_PROFILE=<profile>) and run npm run doctor again';
  }
  if (/did not answer/i.test(reason)) {
    return 'connect to the internet (or set HTTPS_PROXY) and run npm run doctor again';
  }
  if (/container runtime/i.test(reason)) return 'fix the container runtime (see its line above)';
  return undefined;
}

/**
 * The report: one line per check (`ok`, `WARN`, `FAIL` or `skip`, what was checked, what was
 * found, and for warnings and failures `-> fix:` what to do), then why checks were skipped, then
 * the totals.
 */
export function renderReport(
  results: readonly CheckResult[],
  header: readonly string[] = [],
): string {
  const width = Math.max(0, ...results.map((r) => r.title.length));
  const lines = [...header];
  if (header.length > 0) lines.push('');
  for (const r of results) {
    const fix = r.fix !== undefined && r.status !== 'ok' ? ` -> fix: ${r.fix}` : '';
    lines.push(`  ${LABEL[r.status].padEnd(4)}  ${r.title.padEnd(width)}  ${r.detail}${fix}`);
  }

  const skipped = results.filter((r) => r.status === 'skip');
  if (skipped.length > 0) {
    const byReason = new Map<string, CheckResult[]>();
    for (const r of skipped) {
      const reason = r.skipReason ?? 'unknown';
      byReason.set(reason, [...(byReason.get(reason) ?? []), r]);
    }
    lines.push('', `Skipped ${skipped.length} check${skipped.length === 1 ? '' : 's'}:`);
    for (const [reason, checks] of byReason) {
      const step = nextStep(reason);
      lines.push(
        `  - ${checks.length} because ${reason}: ${checks.map((c) => c.title).join(', ')}.` +
          (step ? ` To run them, ${step}.` : ''),
      );
    }
  }

  const count = (status: CheckStatus) => results.filter((r) => r.status === status).length;
  const failed = count('fail');
  const verdict =
    failed > 0
      ? 'Fix the FAIL lines before cdk deploy.'
      : skipped.length > 0
        ? 'No failures among the checks that ran.'
        : 'Nothing found that would stop a deploy.';
  lines.push(
    '',
    `${failed} failed, ${count('warn')} warned, ${count('ok')} ok, ${count('skip')} skipped. ${verdict}`,
  );
  return lines.join('\n');
}

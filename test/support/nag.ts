import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { App } from 'aws-cdk-lib';

interface ValidationReport {
  pluginReports: {
    pluginName: string;
    violations: {
      ruleName: string;
      severity?: string;
      violatingConstructs: { constructPath: string }[];
    }[];
  }[];
}

/**
 * Synthesizes `app` (whose cdk-nag plugin is already added) and returns one line per unacknowledged
 * error, `<rule id> at <construct path>`, so that a failing test names the rule. Empty when clean.
 */
export function nagErrors(app: App): string[] {
  try {
    app.synth();
    return [];
  } catch (error) {
    const reportPath = join(app.outdir, 'validation-report.json');
    let report: ValidationReport;
    try {
      report = JSON.parse(readFileSync(reportPath, 'utf8')) as ValidationReport;
    } catch {
      throw error; // synth failed for a reason other than validation
    }
    return report.pluginReports.flatMap((plugin) =>
      plugin.violations
        .filter((v) => (v.severity ?? 'error') === 'error')
        .flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`)),
    );
  }
}

/**
 * One Logger per function instance, created when the module loads; its service name comes from
 * POWERTOOLS_SERVICE_NAME. The one Metrics is in `metrics.ts`, so that the functions that emit no
 * metrics (bad-deploy, edge-health, gameday-observe, zonal-shift) do not load it.
 *
 * No Powertools Tracer: it wraps the X-Ray SDK, which was a sixth of every bundle and a fifth of
 * its cold load, to add one subsegment per AWS call. The functions run with Lambda active tracing
 * (lib/constructs/lambda/project-function.ts), so X-Ray still records every invocation, its init
 * and its duration, linked to the Step Functions execution that invoked it; the AWS calls
 * themselves are in the function's logs and the services' CloudTrail, not in the trace.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger();

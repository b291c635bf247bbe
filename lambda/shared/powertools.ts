/**
 * One Logger and one Metrics per function instance, created when the module loads.
 * Service name and namespace come from POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE.
 *
 * No Powertools Tracer: it wraps the X-Ray SDK, which was a sixth of every bundle and a fifth of
 * its cold load, to add one subsegment per AWS call. The functions run with Lambda active tracing
 * (lib/constructs/lambda/project-function.ts), so X-Ray still records every invocation, its init
 * and its duration, linked to the Step Functions execution that invoked it; the AWS calls
 * themselves are in the function's logs and the services' CloudTrail, not in the trace.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const logger = new Logger();
export const metrics = new Metrics();

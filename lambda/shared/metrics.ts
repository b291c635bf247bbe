/**
 * One Powertools Metrics per function instance, created when the module loads; its namespace and
 * service come from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME. Only the functions
 * that emit metrics import it (see `powertools.ts`).
 */
import { Metrics } from '@aws-lambda-powertools/metrics';

export const metrics = new Metrics();

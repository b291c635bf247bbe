import { optionalEnv, requireEnv } from './env';
import type { ExperimentShifts } from './experiment';
import { endExperimentShifts } from './zonal-shift';
import { ZonalShiftClient } from './zonal-shift-client';

/**
 * For restore: ends the experiment's zonal shifts on ZONAL_SHIFT_RESOURCE (the ALB's ARN), when the
 * orchestrator set it; none otherwise.
 */
export const experimentShifts = (): ExperimentShifts | undefined => {
  const resourceIdentifier = optionalEnv('ZONAL_SHIFT_RESOURCE');
  if (resourceIdentifier === undefined) return undefined;
  const client = new ZonalShiftClient({ region: requireEnv('AWS_REGION') });
  return {
    end: (experimentId) => endExperimentShifts(client, { experimentId, resourceIdentifier }),
  };
};

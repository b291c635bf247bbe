import { Elbv2Api } from '../elbv2-api';
import { requireEnv } from '../env';

import { once } from './once';

/** The small ELBv2 client (`elbv2-api.ts`) of the functions that count target health. */
export const elbv2Client = /* @__PURE__ */ once(
  () => new Elbv2Api({ region: requireEnv('AWS_REGION') }),
);

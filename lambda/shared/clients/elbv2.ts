import { createElbv2Client } from '../target-health';

import { once } from './once';

/** The ELBv2 client of the functions that count target health (see `target-health.ts`). */
export const elbv2Client = /* @__PURE__ */ once(() => createElbv2Client());

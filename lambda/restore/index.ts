import { experimentShifts, productionDeps } from '../shared/deps';
import { createGuardedHandler } from '../shared/handler';

import { restoreFunction } from './restore';

export const handler = createGuardedHandler(restoreFunction, () =>
  productionDeps({ zonalShifts: experimentShifts }),
);

import { productionDeps } from '../shared/deps';
import { experimentShifts } from '../shared/experiment-shifts';
import { createGuardedHandler } from '../shared/handler';

import { restoreFunction } from './restore';

export const handler = createGuardedHandler(restoreFunction, () =>
  productionDeps({ zonalShifts: experimentShifts }),
);

import { productionDeps } from '../shared/deps';
import { createGuardedHandler } from '../shared/handler';

import { parseRestoreEvent, restore } from './restore';

export const handler = createGuardedHandler(
  {
    name: 'restore',
    parse: parseRestoreEvent,
    run: restore,
    // The scheduled sweep is naturally idempotent and must run every time.
    idempotencyKey: (event) => event.experimentId,
  },
  productionDeps,
);

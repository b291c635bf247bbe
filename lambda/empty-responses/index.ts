import { productionDeps, targetGroupHealth } from '../shared/deps';
import { createGuardedHandler } from '../shared/handler';

import { emptyResponses, parseEmptyResponsesEvent } from './empty-responses';

export const handler = createGuardedHandler(
  {
    name: 'empty-responses',
    parse: parseEmptyResponsesEvent,
    run: emptyResponses,
    idempotencyKey: (event) => event.experimentId,
  },
  () => productionDeps({ targetHealth: targetGroupHealth }),
);

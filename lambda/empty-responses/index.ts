import { productionDeps } from '../shared/deps';
import { createGuardedHandler } from '../shared/handler';
import { targetGroupHealth } from '../shared/target-group-health';

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

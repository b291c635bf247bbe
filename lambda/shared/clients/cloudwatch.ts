import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';

import { clientConfig } from '../aws-client-config';

import { once } from './once';

/** The function's CloudWatch client: alarm states. */
export const cloudWatchClient = /* @__PURE__ */ once(() => new CloudWatchClient(clientConfig()));

import { SSMClient } from '@aws-sdk/client-ssm';

import { clientConfig } from '../aws-client-config';

import { once } from './once';

/** The function's SSM client: the fault document (see `fault-document.ts`). */
export const ssmClient = /* @__PURE__ */ once(() => new SSMClient(clientConfig()));

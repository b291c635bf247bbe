/**
 * The two SSM operations the chaos functions call on the fault document, without
 * `@aws-sdk/client-ssm` (76 KiB of schemas and error classes): SSM's JSON protocol through
 * `AwsJsonApi`.
 *
 * PutParameter is not counted as a write whose lost answer is UNKNOWN: it overwrites the whole
 * document with the same text, under the service's lease (see `fault-document.ts`), so asking
 * again after a timeout writes what the first request wrote. That is what the SDK client did.
 */
import type {
  GetParameterRequest,
  GetParameterResult,
  PutParameterRequest,
  PutParameterResult,
} from '@aws-sdk/client-ssm';

import { AwsJsonApi } from './aws-json-api';
import type { SignedClientOptions } from './signed-http';

export interface SsmOperations {
  GetParameter: [GetParameterRequest, GetParameterResult];
  PutParameter: [PutParameterRequest, PutParameterResult];
}

/** The calls the fault document makes: what tests give in place of the signed client. */
export type SsmCalls = Pick<AwsJsonApi<SsmOperations>, 'call'>;

export class SsmApi extends AwsJsonApi<SsmOperations> {
  constructor(options: SignedClientOptions) {
    super(
      {
        signingName: 'ssm',
        targetPrefix: 'AmazonSSM',
        version: '1.1',
        mutating: new Set(),
        throttling: new Set(['ThrottlingException']),
      },
      options,
    );
  }
}

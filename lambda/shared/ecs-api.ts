/**
 * The ECS operations a function may call without `@aws-sdk/client-ecs` (over 200 KiB with the SDK
 * runtime under it): ECS's JSON protocol through `AwsJsonApi`. bad-deploy, which calls ECS and
 * nothing else, calls these five.
 */
import type {
  DeregisterTaskDefinitionRequest,
  DeregisterTaskDefinitionResponse,
  DescribeServicesRequest,
  DescribeServicesResponse,
  DescribeTaskDefinitionRequest,
  DescribeTaskDefinitionResponse,
  RegisterTaskDefinitionRequest,
  RegisterTaskDefinitionResponse,
  UpdateServiceRequest,
  UpdateServiceResponse,
} from '@aws-sdk/client-ecs';

import { AwsJsonApi } from './aws-json-api';
import type { SignedClientOptions } from './signed-http';

export { AwsApiError, type Wire } from './aws-json-api';

/** The operations this client calls: request and response, as the SDK names them. */
export interface EcsOperations {
  DescribeServices: [DescribeServicesRequest, DescribeServicesResponse];
  DescribeTaskDefinition: [DescribeTaskDefinitionRequest, DescribeTaskDefinitionResponse];
  RegisterTaskDefinition: [RegisterTaskDefinitionRequest, RegisterTaskDefinitionResponse];
  DeregisterTaskDefinition: [DeregisterTaskDefinitionRequest, DeregisterTaskDefinitionResponse];
  UpdateService: [UpdateServiceRequest, UpdateServiceResponse];
}

/**
 * The operations that change state. A lost answer to one of them is UNKNOWN: RegisterTaskDefinition
 * asked twice registers two revisions, and UpdateService asked again may undo a later one.
 */
export const MUTATING_ECS_OPERATIONS: ReadonlySet<keyof EcsOperations> = new Set([
  'RegisterTaskDefinition',
  'DeregisterTaskDefinition',
  'UpdateService',
]);

export class EcsApi extends AwsJsonApi<EcsOperations> {
  constructor(options: SignedClientOptions) {
    super(
      {
        signingName: 'ecs',
        targetPrefix: 'AmazonEC2ContainerServiceV20141113',
        version: '1.1',
        mutating: MUTATING_ECS_OPERATIONS,
        throttling: new Set(['ThrottlingException', 'TooManyRequestsException']),
      },
      options,
    );
  }
}

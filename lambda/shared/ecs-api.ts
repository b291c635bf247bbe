/**
 * The ECS operations the functions call without `@aws-sdk/client-ecs` (over 200 KiB with the SDK
 * runtime under it): ECS's JSON protocol through `AwsJsonApi`. bad-deploy registers, describes and
 * updates; the chaos functions describe, list and stop tasks and update the service's network.
 */
import type {
  DeregisterTaskDefinitionRequest,
  DeregisterTaskDefinitionResponse,
  DescribeServicesRequest,
  DescribeServicesResponse,
  DescribeTaskDefinitionRequest,
  DescribeTaskDefinitionResponse,
  DescribeTasksRequest,
  DescribeTasksResponse,
  ListTasksRequest,
  ListTasksResponse,
  RegisterTaskDefinitionRequest,
  RegisterTaskDefinitionResponse,
  StopTaskRequest,
  StopTaskResponse,
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
  ListTasks: [ListTasksRequest, ListTasksResponse];
  DescribeTasks: [DescribeTasksRequest, DescribeTasksResponse];
  StopTask: [StopTaskRequest, StopTaskResponse];
}

/** The calls a function makes: what tests give in place of the signed client. */
export type EcsCalls = Pick<AwsJsonApi<EcsOperations>, 'call'>;

/**
 * The operations that change state. A lost answer to one of them is UNKNOWN: RegisterTaskDefinition
 * asked twice registers two revisions, UpdateService asked again may undo a later one, and a
 * StopTask's caller learns from DescribeTasks whether the task is stopping (`ecs.ts`).
 */
export const MUTATING_ECS_OPERATIONS: ReadonlySet<keyof EcsOperations> = new Set([
  'RegisterTaskDefinition',
  'DeregisterTaskDefinition',
  'UpdateService',
  'StopTask',
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

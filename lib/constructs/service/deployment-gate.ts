import * as path from 'node:path';

import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { IVpc, Peer, Port, SecurityGroup, SubnetType } from 'aws-cdk-lib/aws-ec2';
import { DeploymentLifecycleLambdaTarget, DeploymentLifecycleStage } from 'aws-cdk-lib/aws-ecs';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

import { ProjectFunction } from '../lambda/project-function';

/**
 * When ECS calls the gate: the new revision answers on the test listener (it holds 100% of the
 * test traffic) and still gets no production traffic. Earlier stages have nothing to check
 * through the test listener; later ones have already sent users to the new revision.
 */
export const GATE_STAGE = DeploymentLifecycleStage.POST_TEST_TRAFFIC_SHIFT;

export interface DeploymentGateProps {
  /** The VPC whose private subnets (egress through the NAT gateways) the gate runs in. */
  readonly vpc: IVpc;
  /** `http://<load balancer>:<test port>`: the test listener the gate checks the new revision through. */
  readonly testListenerUrl: string;
  /** The test listener's port: the only port the gate may connect to. */
  readonly testListenerPort: number;
  /** The text a ready body contains (`healthCheck.token`), the same the service is given. */
  readonly healthToken: string;
  /**
   * How long one invocation may run (ECS calls the hook again while it answers IN_PROGRESS).
   * @default Duration.seconds(60)
   */
  readonly timeout?: Duration;
  /**
   * CloudWatch namespace of the gate's metrics.
   * @default 'Blueprint/DeployGate'
   */
  readonly metricsNamespace?: string;
  /**
   * How long the gate's logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/**
 * The zero-length gate of a canary deployment: a Lambda function (`lambda/deploy-gate`) that ECS
 * calls at `GATE_STAGE` and that fails the deployment unless the new revision, reached through the
 * test listener, answers ready and with non-empty, valid JSON bodies. It runs in the private
 * subnets and connects out only to the test listener's port; ECS invokes it with a role that may
 * invoke this function and nothing else.
 */
export class DeploymentGate extends Construct {
  public readonly function: ProjectFunction;
  /** The gate's network identity; its traffic reaches the load balancer from the NAT gateways. */
  public readonly securityGroup: SecurityGroup;
  /** The role ECS assumes to invoke the gate. */
  public readonly invokeRole: Role;
  /** The lifecycle hook to add to the service. */
  public readonly hook: DeploymentLifecycleLambdaTarget;

  constructor(scope: Construct, id: string, props: DeploymentGateProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(60);
    validate(props, timeout);
    const stack = Stack.of(this);

    this.securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Deployment gate: out to the test listener port only',
      allowAllOutbound: false,
    });
    // The load balancer's DNS name resolves to its public addresses, so the destination is any
    // address; the listener itself admits only the NAT gateways' addresses.
    this.securityGroup.addEgressRule(
      Peer.anyIpv4(),
      Port.tcp(props.testListenerPort),
      'To the test listener, through a NAT gateway',
    );

    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An own role, without AWSLambdaBasicExecutionRole: logs go to this group only.
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `deployment gate in ${stack.region}`,
    });
    logGroup.grantWrite(role);

    // The one place the gate function is created: a ProjectFunction, in the shared bundle.
    this.function = new ProjectFunction(this, 'Function', {
      entry: path.join(__dirname, '..', '..', '..', 'lambda', 'deploy-gate', 'index.ts'),
      memorySize: 256,
      timeout,
      role,
      logGroup,
      vpc: props.vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.securityGroup],
      description: `Deployment gate: checks a new revision on the test listener (${stack.region})`,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'deploy-gate',
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace ?? 'Blueprint/DeployGate',
        TEST_LISTENER_URL: props.testListenerUrl,
        HEALTH_TOKEN: props.healthToken,
      },
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason:
        'The CDK attaches it to every function in a VPC: the ENI actions (Create/Describe/' +
        'DeleteNetworkInterface, Assign/UnassignPrivateIpAddresses) Lambda needs to place the ' +
        'function in the private subnets',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'xray:PutTraceSegments/PutTelemetryRecords (active tracing) support no resource-level permission',
    });

    // Invoke on the unqualified function ARN only, the ARN the service's hook names (no
    // `:*` for versions or aliases, which CDK's grantInvoke would add).
    this.invokeRole = new Role(this, 'InvokeRole', {
      assumedBy: new ServicePrincipal('ecs.amazonaws.com'),
      description: `ECS invokes the deployment gate in ${stack.region}`,
    });
    this.invokeRole.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.function.functionArn],
      }),
    );
    this.hook = new DeploymentLifecycleLambdaTarget(this.function, 'Gate', {
      role: this.invokeRole,
      lifecycleStages: [GATE_STAGE],
    });
  }
}

function validate(props: DeploymentGateProps, timeout: Duration): void {
  const problems: string[] = [];
  const port = props.testListenerPort;
  if (!Token.isUnresolved(port) && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    problems.push(`testListenerPort must be an integer from 1 to 65535, got ${port}`);
  }
  const seconds = timeout.toSeconds();
  if (seconds < 5 || seconds > 900) {
    problems.push(`timeout must be 5-900 seconds, got ${seconds}`);
  }
  if (!Token.isUnresolved(props.healthToken) && props.healthToken.trim() === '') {
    problems.push(
      'healthToken must be the text a healthy readiness body contains, got an empty string',
    );
  }
  if (problems.length > 0) throw new Error(`DeploymentGate: ${problems.join('; ')}`);
}

import { Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { Certificate, CertificateValidation } from 'aws-cdk-lib/aws-certificatemanager';
import { IVpc, Peer, Port, SubnetType } from 'aws-cdk-lib/aws-ec2';
import {
  ApplicationListener,
  ApplicationLoadBalancer,
  ApplicationProtocol,
  ListenerAction,
  SslPolicy,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { IHostedZone } from 'aws-cdk-lib/aws-route53';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

import { RELAY_TOKEN_HEADER, VIEWER_IP_HEADER } from './relay-headers';

/** The load balancer attribute that lets ARC start zonal shifts (and autoshifts) on it. */
export const ZONAL_SHIFT_ATTRIBUTE = 'zonal_shift.config.enabled';

export interface PublicLoadBalancerProps {
  /** The VPC whose public subnets hold the load balancer. */
  readonly vpc: IVpc;
  /**
   * The hosted zone that validates the certificate; with `domainName`, the load balancer serves
   * HTTPS and redirects HTTP to it.
   * @default - no TLS: the load balancer answers plain HTTP on port 80
   */
  readonly hostedZone?: IHostedZone;
  /**
   * The name clients use (the geoproximity record), which the certificate covers.
   * @default - no TLS
   */
  readonly domainName?: string;
  /**
   * Put an AWS WAF web ACL in front: AWS managed common rules and a per-IP rate limit (per viewer
   * address for requests relayed by CloudFront with `relayToken`).
   * @default true
   */
  readonly wafEnabled?: boolean;
  /**
   * Requests one IP may send in any 5-minute window before the WAF blocks it (10 to 2e9).
   * @default 2000
   */
  readonly requestsPerFiveMinutesPerIp?: number;
  /**
   * Days access logs are kept.
   * @default 90
   */
  readonly accessLogRetentionDays?: number;
  /**
   * Port of the test listener, on which a deployment's new revision answers before it gets any
   * production traffic (1-65535, not 80 or 443).
   * @default 9000
   */
  readonly testListenerPort?: number;
  /**
   * The only IPv4 addresses the test listener admits: the NAT gateways' public addresses, through
   * which the deployment gate in the private subnets reaches this internet-facing load balancer.
   * @default - none: the test listener admits no one
   */
  readonly testTrafficSourceIps?: readonly string[];
}

/** What the production listener answers when no rule matches: the service's rule matches all. */
const NO_ROUTE = ListenerAction.fixedResponse(404, {
  contentType: 'application/json',
  messageBody: '{"error":"no route"}',
});

/**
 * An internet-facing ALB with encrypted access logs, invalid header fields dropped, ARC zonal shift
 * enabled, HTTPS when a domain is configured, and a WAF web ACL. Targets are attached by the service through `listener`.
 */
export class PublicLoadBalancer extends Construct {
  public readonly loadBalancer: ApplicationLoadBalancer;
  /** The listener that forwards to the service: HTTPS with a domain, else HTTP. */
  public readonly listener: ApplicationListener;
  /**
   * Plain HTTP on `testListenerPort`, open only to `testTrafficSourceIps`: during a deployment it
   * forwards to the new revision alone, for the deployment gate to check.
   */
  public readonly testListener: ApplicationListener;
  /** `http://<load balancer DNS name>:<test port>`: where the deployment gate sends its checks. */
  public readonly testListenerUrl: string;
  /** `https` with a domain, else `http`. */
  public readonly protocol: 'http' | 'https';
  public readonly webAcl?: CfnWebACL;
  /**
   * A value only this account's CloudFront relays send (in `RELAY_TOKEN_HEADER`): the unique part
   * of this stack's id, which CloudFormation generates and never publishes. The WAF limits requests
   * carrying it per viewer address (`VIEWER_IP_HEADER`, set by CloudFront) rather than per source
   * address, which for them is one of CloudFront's edge addresses shared by many viewers. Anyone
   * who can describe the stack can read it.
   */
  public readonly relayToken: string;

  constructor(scope: Construct, id: string, props: PublicLoadBalancerProps) {
    super(scope, id);
    const problems: string[] = [];
    const rate = props.requestsPerFiveMinutesPerIp ?? 2000;
    if (!Token.isUnresolved(rate) && (!Number.isInteger(rate) || rate < 10 || rate > 2e9)) {
      problems.push(
        `requestsPerFiveMinutesPerIp must be an integer from 10 to 2000000000, got ${rate}`,
      );
    }
    const testPort = props.testListenerPort ?? 9000;
    if (
      !Token.isUnresolved(testPort) &&
      (!Number.isInteger(testPort) ||
        testPort < 1 ||
        testPort > 65535 ||
        [80, 443].includes(testPort))
    ) {
      problems.push(
        `testListenerPort must be an integer from 1 to 65535 other than 80 and 443 (the production ports), got ${testPort}`,
      );
    }
    if ((props.hostedZone === undefined) !== (props.domainName === undefined)) {
      problems.push(
        'hostedZone and domainName go together: give both for HTTPS, or neither for HTTP',
      );
    }
    if (problems.length > 0) throw new Error(`PublicLoadBalancer: ${problems.join('; ')}`);

    const accessLogs = new Bucket(this, 'AccessLogs', {
      // ALB access logs support only SSE-S3.
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(props.accessLogRetentionDays ?? 90) }],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket is itself the access-log destination; logging it would loop.',
    });

    this.loadBalancer = new ApplicationLoadBalancer(this, 'Alb', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: SubnetType.PUBLIC },
      dropInvalidHeaderFields: true,
    });
    this.loadBalancer.logAccessLogs(accessLogs);
    // ARC zonal shift (docs/zonal-shift.md): off unless the load balancer opts in. ALBs keep
    // cross-zone load balancing on (it cannot be turned off on an ALB, only per target group), which
    // zonal shift supports: the shifted AZ's node leaves DNS and the other nodes stop sending to
    // the shifted AZ's targets.
    this.loadBalancer.setAttribute(ZONAL_SHIFT_ATTRIBUTE, 'true');
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'An internet-facing load balancer must accept any client; the WAF rate-limits them.',
    });

    if (props.hostedZone && props.domainName) {
      const certificate = new Certificate(this, 'Certificate', {
        domainName: props.domainName,
        // <region>.<domainName> reaches one region on purpose (the site's health column).
        subjectAlternativeNames: [`*.${props.domainName}`],
        validation: CertificateValidation.fromDns(props.hostedZone),
      });
      this.listener = this.loadBalancer.addListener('Https', {
        protocol: ApplicationProtocol.HTTPS,
        certificates: [certificate],
        sslPolicy: SslPolicy.RECOMMENDED_TLS,
        open: true,
        defaultAction: NO_ROUTE,
      });
      this.loadBalancer.addListener('HttpRedirect', {
        protocol: ApplicationProtocol.HTTP,
        open: true,
        defaultAction: ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
      });
      this.protocol = 'https';
    } else {
      this.listener = this.loadBalancer.addListener('Http', {
        protocol: ApplicationProtocol.HTTP,
        open: true,
        defaultAction: NO_ROUTE,
      });
      this.protocol = 'http';
    }

    // Plain HTTP: the gate checks what the new revision answers, which TLS would not change, and
    // the load balancer's own DNS name, which the gate calls, is not on the certificate.
    this.testListener = this.loadBalancer.addListener('Test', {
      protocol: ApplicationProtocol.HTTP,
      port: testPort,
      open: false,
      defaultAction: NO_ROUTE,
    });
    for (const ip of props.testTrafficSourceIps ?? []) {
      this.testListener.connections.allowFrom(
        Peer.ipv4(`${ip}/32`),
        Port.tcp(testPort),
        'Deployment gate (through a NAT gateway) to the test listener',
      );
    }
    this.testListenerUrl = `http://${this.loadBalancer.loadBalancerDnsName}:${testPort}`;

    this.relayToken = Fn.select(2, Fn.split('/', Stack.of(this).stackId));
    if (props.wafEnabled ?? true) {
      this.webAcl = this.createWebAcl(rate);
      new CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: this.loadBalancer.loadBalancerArn,
        webAclArn: this.webAcl.attrArn,
      });
    }
  }

  private createWebAcl(requestsPerFiveMinutesPerIp: number): CfnWebACL {
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    const relayed: CfnWebACL.StatementProperty = {
      byteMatchStatement: {
        fieldToMatch: { singleHeader: { Name: RELAY_TOKEN_HEADER } },
        positionalConstraint: 'EXACTLY',
        searchString: this.relayToken,
        textTransformations: [{ priority: 0, type: 'NONE' }],
      },
    };
    return new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('WebAcl'),
      rules: [
        {
          // Direct requests: per source address.
          name: 'RatePerIp',
          priority: 0,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: requestsPerFiveMinutesPerIp,
              aggregateKeyType: 'IP',
              scopeDownStatement: { notStatement: { statement: relayed } },
            },
          },
          visibilityConfig: visibility('RatePerIp'),
        },
        {
          // Requests CloudFront relays: per viewer address, as CloudFront saw it.
          name: 'RatePerRelayedViewer',
          priority: 1,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: requestsPerFiveMinutesPerIp,
              aggregateKeyType: 'FORWARDED_IP',
              forwardedIpConfig: { headerName: VIEWER_IP_HEADER, fallbackBehavior: 'MATCH' },
              scopeDownStatement: relayed,
            },
          },
          visibilityConfig: visibility('RatePerRelayedViewer'),
        },
        {
          name: 'AwsCommonRules',
          priority: 2,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesCommonRuleSet' },
          },
          visibilityConfig: visibility('AwsCommonRules'),
        },
      ],
    });
  }
}

import { join } from 'node:path';

import { Duration, IgnoreMode, Stack, StackProps } from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { ContainerImage } from 'aws-cdk-lib/aws-ecs';
import { ApplicationLoadBalancer } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { HostedZone } from 'aws-cdk-lib/aws-route53';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

import { RegionConfig, ResolvedConfig } from '../config';
import { RegionAlarms } from '../constructs/alarms/region-alarms';
import { MemcachedCluster } from '../constructs/cache/memcached-cluster';
import { CanaryTarget, ChaosFunctions } from '../constructs/chaos/chaos-functions';
import { BadDeployGameDay } from '../constructs/gameday/bad-deploy-game-day';
import { GameDayOrchestrator } from '../constructs/gameday/gameday-orchestrator';
import { PublicLoadBalancer } from '../constructs/load-balancer/public-load-balancer';
import { ZonalAutoshift } from '../constructs/load-balancer/zonal-autoshift';
import { NatGatewayLayout, Network } from '../constructs/network/network';
import {
  CONTAINER_NAME,
  CatalogService,
  TrafficShift,
} from '../constructs/service/catalog-service';
import { DeploymentGate } from '../constructs/service/deployment-gate';
import { ServiceLinkedRoles } from '../constructs/service/service-linked-roles';

/** The repository root: the service image's build context (see service/Dockerfile). */
const REPO_ROOT = join(__dirname, '..', '..');

/** The fault document every region starts with: no faults. */
export const EMPTY_FAULT_DOCUMENT = '{"faults":[]}';

export interface RegionalStackProps extends StackProps {
  /** The whole blueprint config (sizing, health checks, chaos guardrails). */
  readonly config: ResolvedConfig;
  /** This stack's region and its AZs. */
  readonly regionConfig: Required<RegionConfig>;
  /** Name of the global table; this region's service uses its local replica. */
  readonly tableName: string;
  /**
   * The service image.
   * @default - built from service/Dockerfile for ARM64
   */
  readonly image?: ContainerImage;
}

/** Everything one region runs: network, load balancer, service, cache, alarms. */
export class RegionalStack extends Stack {
  public readonly regionConfig: Required<RegionConfig>;
  public readonly network: Network;
  public readonly loadBalancer: ApplicationLoadBalancer;
  /** What CloudFront's relays send so that the WAF limits them per viewer (see `PublicLoadBalancer`). */
  public readonly relayToken: string;
  /** `https` when a domain is configured, else `http`. */
  public readonly loadBalancerProtocol: 'http' | 'https';
  public readonly faultParameter: StringParameter;
  public readonly cache: MemcachedCluster;
  public readonly catalog: CatalogService;
  /** The Lambda function that checks each new revision on the test listener before users get it. */
  public readonly deploymentGate: DeploymentGate;
  public readonly alarms: RegionAlarms;
  private readonly configuredAzs: string[];

  /**
   * The configured AZ names. With an explicit account, the default asks AWS at synth (a context
   * lookup); synth must work offline, so the config's names are the answer.
   */
  public override get availabilityZones(): string[] {
    return this.configuredAzs;
  }

  /** Zonal autoshift on the load balancer; absent unless `zonalShift.autoshift` is on. */
  public readonly zonalAutoshift?: ZonalAutoshift;
  /** The guarded chaos functions, canary and FIS templates; absent when chaos is off. */
  public readonly chaos?: ChaosFunctions;
  /** The game-day state machine that runs one scenario here; absent when chaos is off. */
  public readonly gameDay?: GameDayOrchestrator;
  /** The bad-deploy game day's state machine, with chaos on. */
  public readonly badDeploy?: BadDeployGameDay;

  constructor(scope: Construct, id: string, props: RegionalStackProps) {
    super(scope, id, props);
    const { config, regionConfig } = props;
    this.regionConfig = regionConfig;
    this.configuredAzs = [...regionConfig.availabilityZones];
    const hc = config.healthCheck;

    this.network = new Network(this, 'Network', {
      availabilityZones: regionConfig.availabilityZones,
      natGateways:
        config.network.natGateways === 'single'
          ? NatGatewayLayout.SINGLE
          : NatGatewayLayout.ONE_PER_AZ,
    });
    const vpc = this.network.vpc;

    const domain = config.domain;
    const edge = new PublicLoadBalancer(this, 'LoadBalancer', {
      vpc,
      hostedZone:
        domain &&
        HostedZone.fromHostedZoneAttributes(this, 'Zone', {
          hostedZoneId: domain.hostedZoneId,
          zoneName: domain.zoneName,
        }),
      domainName: domain && `${domain.apiRecordName}.${domain.zoneName}`,
      wafEnabled: config.waf.enabled,
      requestsPerFiveMinutesPerIp: config.waf.requestsPerFiveMinutesPerIp,
      testListenerPort: config.deployment.testListenerPort,
      // The gate runs in the private subnets and reaches the load balancer's public addresses
      // through the NAT gateways: those addresses, and nothing else, may use the test listener.
      testTrafficSourceIps: this.network.natGatewayPublicIps,
    });
    this.loadBalancer = edge.loadBalancer;
    this.relayToken = edge.relayToken;
    this.loadBalancerProtocol = edge.protocol;

    this.faultParameter = new StringParameter(this, 'FaultDocument', {
      parameterName: `/${config.projectName}/faults`,
      description: 'Game-day faults the service tasks apply (see service/README.md)',
      stringValue: EMPTY_FAULT_DOCUMENT,
    });

    this.cache = new MemcachedCluster(this, 'Cache', {
      vpc,
      availabilityZones: regionConfig.availabilityZones,
      nodeType: config.sizing.cacheNodeType,
    });

    const alarmNamePrefix = `${config.projectName}-${regionConfig.region}`;
    const metricsNamespace = `${config.projectName}/Service`;
    const deployment = config.deployment;
    this.deploymentGate = new DeploymentGate(this, 'DeploymentGate', {
      vpc,
      testListenerUrl: edge.testListenerUrl,
      testListenerPort: deployment.testListenerPort,
      healthToken: hc.token,
      metricsNamespace: `${config.projectName}/DeployGate`,
    });
    this.catalog = new CatalogService(this, 'Catalog', {
      vpc,
      image:
        props.image ??
        ContainerImage.fromAsset(REPO_ROOT, {
          file: 'service/Dockerfile',
          platform: Platform.LINUX_ARM64,
          ignoreMode: IgnoreMode.DOCKER,
        }),
      listener: edge.listener,
      testListener: edge.testListener,
      deploymentGate: this.deploymentGate.hook,
      trafficShift: deployment.strategy === 'linear' ? TrafficShift.LINEAR : TrafficShift.CANARY,
      trafficStepPercent:
        deployment.strategy === 'linear' ? deployment.linearStepPercent : deployment.canaryPercent,
      stepBakeTime: Duration.minutes(deployment.stepBakeTimeMinutes),
      bakeTime: Duration.minutes(deployment.bakeTimeMinutes),
      tableName: props.tableName,
      memcachedConfigEndpoint: this.cache.configurationEndpoint,
      memcachedTls: this.cache.transitEncryption,
      faultParameter: this.faultParameter,
      healthToken: hc.token,
      cpu: config.sizing.taskCpu,
      memoryLimitMiB: config.sizing.taskMemoryMiB,
      desiredCount: config.sizing.desiredTasks,
      minCount: config.sizing.minTasks,
      maxCount: config.sizing.maxTasks,
      healthCheckIntervalSeconds: hc.albIntervalSeconds,
      healthCheckTimeoutSeconds: hc.albTimeoutSeconds,
      healthyThresholdCount: hc.albHealthyThreshold,
      unhealthyThresholdCount: hc.albUnhealthyThreshold,
      deploymentAlarmNames: RegionAlarms.deploymentAlarmNames(alarmNamePrefix),
      chaosEnabled: config.chaos.enabled,
      metricsNamespace,
    });
    this.cache.allowFrom(this.catalog.service);
    // In an account that never ran ECS, the cluster, service and scaling target would otherwise
    // race the roles ECS and Application Auto Scaling create on first use.
    new ServiceLinkedRoles(this, 'ServiceLinkedRoles').requiredBy(
      this.catalog.cluster,
      this.catalog.service,
    );

    this.alarms = new RegionAlarms(this, 'Alarms', {
      alarmNamePrefix,
      region: regionConfig.region,
      loadBalancer: this.loadBalancer,
      targetGroup: this.catalog.targetGroup,
      alternateTargetGroup: this.catalog.alternateTargetGroup,
      service: this.catalog.service,
      cacheClusterId: this.cache.cluster.ref,
      // Losing more than a chaos experiment may take away means users are affected.
      minHealthyHosts: Math.max(
        1,
        Math.floor(config.sizing.minTasks * (1 - config.chaos.maxTaskShare)),
      ),
      serviceMetricsNamespace: metricsNamespace,
      alarmEmail: config.alarmEmail,
      // The chaos canary reads the endpoint every minute: no data then means not known healthy.
      canaryTraffic: config.chaos.enabled,
    });

    if (config.zonalShift.autoshift) {
      this.zonalAutoshift = new ZonalAutoshift(this, 'ZonalAutoshift', {
        loadBalancer: this.loadBalancer,
        outcomeAlarm: this.alarms.regionImpaired,
        blockingAlarm: this.alarms.healthyHostsLow,
      });
    }

    if (config.chaos.enabled) {
      this.chaos = new ChaosFunctions(this, 'Chaos', {
        cluster: this.catalog.cluster,
        service: this.catalog.service,
        targetGroups: this.catalog.targetGroups,
        faultParameter: this.faultParameter,
        regionImpairedAlarm: this.alarms.regionImpaired,
        canaryTargets: this.canaryTargets(config),
        healthToken: hc.token,
        maxTaskShare: config.chaos.maxTaskShare,
        maxFaultDurationMinutes: config.chaos.maxFaultDurationMinutes,
        cacheClusterId: this.cache.cluster.ref,
        alarmTopic: this.alarms.topic,
        taskDefinition: config.chaos.ecsNetworkFaults ? this.catalog.taskDefinition : undefined,
      });
    }

    // --- Game day (docs/gameday): one scenario at a time, preflight to scored report ---
    if (this.chaos) {
      const api = domain && `${domain.apiRecordName}.${domain.zoneName}`;
      this.gameDay = new GameDayOrchestrator(this, 'GameDay', {
        chaos: this.chaos,
        service: this.catalog.service,
        targetGroups: this.catalog.targetGroups,
        regionImpairedAlarm: this.alarms.regionImpaired,
        watchedAlarmNames: [
          ...RegionAlarms.deploymentAlarmNames(alarmNamePrefix),
          ...['unhealthy-hosts', 'healthy-hosts-low', 'p99-latency'].map(
            (n) => `${alarmNamePrefix}-${n}`,
          ),
        ],
        regionEndpoint: api
          ? `https://${regionConfig.region}.${api}`
          : `http://${this.loadBalancer.loadBalancerDnsName}`,
        globalEndpoint: api && `https://${api}`,
        availabilityZones: regionConfig.availabilityZones,
        albIntervalSeconds: hc.albIntervalSeconds,
        albHealthyThreshold: hc.albHealthyThreshold,
        albUnhealthyThreshold: hc.albUnhealthyThreshold,
        route53FailureThreshold: hc.route53FailureThreshold,
        maxFaultDurationMinutes: config.chaos.maxFaultDurationMinutes,
        zonalShiftLoadBalancerArn: this.loadBalancer.loadBalancerArn,
      });
      // The bad-deploy game day (docs/gameday/bad-deploy.md): a revision answering empty 200s is
      // deployed; the deployment gate must refuse it before users see it. Restored on every exit.
      this.badDeploy = new BadDeployGameDay(this, 'BadDeploy', {
        service: this.catalog.service,
        taskDefinition: this.catalog.taskDefinition,
        containerName: CONTAINER_NAME,
      });
    }
    // --- end game day ---
  }

  /**
   * What the canary calls. With a domain: every region by its own name and the geoproximity name.
   * Without one, other regions' load balancer names are unknown here, so only this region's.
   */
  private canaryTargets(config: ResolvedConfig): CanaryTarget[] {
    const domain = config.domain;
    if (!domain) {
      return [
        {
          name: this.regionConfig.region,
          url: `http://${this.loadBalancer.loadBalancerDnsName}/health/ready`,
        },
      ];
    }
    const api = `${domain.apiRecordName}.${domain.zoneName}`;
    return [
      ...config.regions.map((r) => ({
        name: r.region,
        url: `https://${r.region}.${api}/health/ready`,
      })),
      { name: 'global', url: `https://${api}/health/ready` },
    ];
  }
}

import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { freePort, startMemcached, type MemcachedServer } from '../../test/support/memcached';

import { startHaproxy, type Haproxy, type ServerState } from './haproxy';
import type { RunPlan } from './plan';
import type { ManagedProcess, ProcessRegistry } from './processes';

/**
 * One region in a box on loopback: a service replica and a memcached node per "AZ", and HAProxy
 * in front of the replicas. Replicas run the bundle service/bundle.sh builds, as the image does.
 */

export interface RegionOptions {
  readonly region: string;
  readonly availabilityZones: readonly string[];
  readonly directory: string;
  readonly bundleDirectory: string;
  readonly dynamoDbEndpoint: string;
  readonly tableName: string;
  readonly plan: RunPlan;
  readonly registry: ProcessRegistry;
  readonly haproxyBinary: string;
  /** Requests per minute each replica allows one client IP (every local client is 127.0.0.1). */
  readonly rateLimitPerMinute: number;
}

export interface Replica {
  readonly availabilityZone: string;
  readonly taskId: string;
  readonly port: number;
  readonly process: ManagedProcess;
}

/** A fault as the service's document holds it (service/README.md). */
export interface FaultEntry {
  readonly type: 'empty-response' | 'latency' | 'error-status' | 'health-fail' | 'cache-blackhole';
  readonly targets: readonly string[];
  readonly expiresAt: string;
  readonly params?: Readonly<Record<string, number>>;
}

async function waitForLive(replica: Replica, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (replica.process.hasExited()) {
      throw new Error(
        `replica ${replica.taskId} exited at start (code ${replica.process.child.exitCode})`,
      );
    }
    const live = await fetch(`http://127.0.0.1:${replica.port}/health/live`, {
      signal: AbortSignal.timeout(500),
    }).then(
      (response) => response.ok,
      () => false,
    );
    if (live) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`replica ${replica.taskId} did not listen within ${timeoutMs / 1000} s`);
}

/** Writes a fault document atomically, as the chaos functions write the parameter. */
async function writeFaultsFile(path: string, faults: readonly FaultEntry[]): Promise<void> {
  const temporary = `${path}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ faults }, null, 2)}\n`);
  await rename(temporary, path);
}

export class Region {
  readonly memcached = new Map<string, MemcachedServer>();
  readonly replicas = new Map<string, Replica>();
  /** Every task started, in order (replacements included). */
  readonly tasks: Array<{ readonly availabilityZone: string; readonly taskId: string }> = [];
  readonly faultsFile: string;
  private readonly ports = new Map<string, number>();
  private readonly taskCounter = new Map<string, number>();
  private balancer?: Haproxy;
  /** Tasks of a new revision, registered nowhere (see `startUnregistered`). */
  private readonly candidates: Replica[] = [];
  /** AZs whose target is deregistered: their next replica is registered once it listens. */
  private readonly deregistered = new Set<string>();
  /** AZs shifted away from (a local zonal shift): no replica there is registered until it ends. */
  private readonly shifted = new Set<string>();

  constructor(private readonly options: RegionOptions) {
    this.faultsFile = join(options.directory, `${options.region}-faults.json`);
  }

  get name(): string {
    return this.options.region;
  }

  get availabilityZones(): readonly string[] {
    return this.options.availabilityZones;
  }

  get haproxy(): Haproxy {
    if (!this.balancer) throw new Error(`region ${this.name} is not started`);
    return this.balancer;
  }

  /** Starts memcached, the replicas and HAProxy; resolves once every target is fully up. */
  async start(): Promise<void> {
    await this.writeFaults([]);
    const zones = this.options.availabilityZones;
    for (const az of zones) this.memcached.set(az, await startMemcached());
    for (const az of zones) this.ports.set(az, await freePort());
    await Promise.all(zones.map((az) => this.startReplica(az)));
    this.balancer = await startHaproxy(this.options.registry, {
      binary: this.options.haproxyBinary,
      directory: this.options.directory,
      name: `haproxy-${this.name}`,
      port: await freePort(),
      balancer: this.options.plan.balancer,
      targets: zones.map((az) => ({ name: az, port: this.ports.get(az) ?? 0 })),
    });
    await this.waitUntilFullyUp(30_000);
  }

  /** Waits until every target has passed enough checks that one failure will not eject it. */
  async waitUntilFullyUp(timeoutMs: number): Promise<void> {
    const { healthyThreshold, unhealthyThreshold } = this.options.plan.balancer;
    const full = healthyThreshold + unhealthyThreshold - 1;
    const deadline = Date.now() + timeoutMs;
    let servers: ServerState[] = [];
    while (Date.now() < deadline) {
      servers = await this.haproxy.servers();
      if (servers.every((server) => server.status === 'UP' && server.checkHealth >= full)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(
      `region ${this.name}: targets not healthy within ${timeoutMs / 1000} s: ${servers
        .map((server) => `${server.name} ${server.status} (${server.checkStatus})`)
        .join(', ')}`,
    );
  }

  /** Starts a new task in the AZ's slot (a new TASK_ID, the slot's port). */
  async startReplica(az: string): Promise<Replica> {
    const taskId = this.nextTaskId(az);
    // A deregistered task may still be draining on its port: its replacement gets a new one, as
    // a new Fargate task gets a new address.
    const port = (this.deregistered.has(az) ? undefined : this.ports.get(az)) ?? (await freePort());
    this.ports.set(az, port);
    const replica = this.launch(az, taskId, port, this.faultsFile);
    this.replicas.set(az, replica);
    this.tasks.push({ availabilityZone: az, taskId });
    await waitForLive(replica, 15_000);
    if (!this.shifted.has(az) && this.deregistered.delete(az)) {
      await this.haproxy.register(az, port);
    }
    return replica;
  }

  /**
   * Starts a task of a new revision in the AZ, as a deployment does before any traffic moves: its
   * own port and its own fault document (`faults`, the revision's configuration), registered
   * nowhere. Whoever started it decides whether HAProxy ever gets it; `stop` ends it in any case.
   */
  async startUnregistered(
    az: string,
    revision: string,
    faults: readonly FaultEntry[],
  ): Promise<Replica> {
    const taskId = `${az}-${revision}-task-${this.candidates.length + 1}`;
    const faultsFile = join(this.options.directory, `${this.name}-${taskId}-faults.json`);
    await writeFaultsFile(faultsFile, faults);
    const replica = this.launch(az, taskId, await freePort(), faultsFile);
    this.candidates.push(replica);
    await waitForLive(replica, 15_000);
    return replica;
  }

  private nextTaskId(az: string): string {
    const count = (this.taskCounter.get(az) ?? 0) + 1;
    this.taskCounter.set(az, count);
    return `${az}-task-${count}`;
  }

  private launch(az: string, taskId: string, port: number, faultsFile: string): Replica {
    const { plan } = this.options;
    const child = this.options.registry.start({
      name: taskId,
      command: process.execPath,
      args: ['--enable-source-maps', join(this.options.bundleDirectory, 'main.js')],
      logFile: join(this.options.directory, `${taskId}.log`),
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        MEMCACHED_ENDPOINTS: [...this.memcached.values()].map((node) => node.endpoint).join(','),
        TABLE_NAME: this.options.tableName,
        DYNAMODB_ENDPOINT: this.options.dynamoDbEndpoint,
        AWS_REGION: this.name,
        // dynalite ignores credentials; fixed ones keep the SDK from looking for real ones.
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_EC2_METADATA_DISABLED: 'true',
        FAULTS_FILE: faultsFile,
        FAULTS_POLL_SECONDS: String(plan.faultPollSeconds),
        HEALTH_TOKEN: plan.healthToken,
        TASK_ID: taskId,
        AVAILABILITY_ZONE: az,
        SHUTDOWN_DRAIN_SECONDS: '2',
        RATE_LIMIT_PER_MINUTE: String(this.options.rateLimitPerMinute),
        TRUST_PROXY_HOPS: '1',
        LOG_LEVEL: 'warn',
      },
    });
    return { availabilityZone: az, taskId, port, process: child };
  }

  /**
   * A local zonal shift, as ARC does to an ALB: the AZ's targets get no new request (HAProxy's
   * runtime API, `set server ... state maint`; requests already on them finish), and a replica
   * started there meanwhile is not registered until the shift ends.
   */
  async shiftAway(az: string): Promise<void> {
    this.shifted.add(az);
    this.deregistered.add(az);
    await this.haproxy.deregister(az);
  }

  /** Ends the local zonal shift: a replica already listening in the AZ is registered again. */
  async endShift(az: string): Promise<void> {
    if (!this.shifted.delete(az)) return;
    const replica = this.replicas.get(az);
    if (replica && !replica.process.hasExited() && this.deregistered.delete(az)) {
      await this.haproxy.register(az, replica.port);
    }
  }

  /**
   * What StopTask does first: deregisters the AZ's target from the load balancer, which sends it
   * no new request from then on. The task keeps running (see `stopReplica`).
   */
  async deregisterReplica(az: string): Promise<Replica | undefined> {
    await this.haproxy.deregister(az);
    this.deregistered.add(az);
    return this.replicas.get(az);
  }

  /**
   * What StopTask does after the deregistration delay: SIGTERM, on which the service drains
   * (SHUTDOWN_DRAIN_SECONDS) and exits; SIGKILL if it has not exited after `graceMs`. Takes the
   * replica itself: by then its replacement may hold the AZ's slot.
   */
  async stopReplica(replica: Replica, graceMs: number): Promise<void> {
    await replica.process.stop(graceMs);
  }

  /** SIGKILL to the AZ's replica: a crashed task. */
  async killReplica(az: string): Promise<Replica | undefined> {
    const replica = this.replicas.get(az);
    await replica?.process.kill();
    return replica;
  }

  /** Writes the region's fault document atomically, as the chaos functions write the parameter. */
  async writeFaults(faults: readonly FaultEntry[]): Promise<void> {
    await writeFaultsFile(this.faultsFile, faults);
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.replicas.values(), ...this.candidates].map((replica) => replica.process.stop(3000)),
    );
    await this.balancer?.process.stop(1000);
    await Promise.all([...this.memcached.values()].map((node) => node.stop()));
  }
}

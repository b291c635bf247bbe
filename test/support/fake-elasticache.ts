/**
 * A fake ElastiCache endpoint on 127.0.0.1 speaking the two calls cache-outage makes, in
 * ElastiCache's query protocol (form-encoded POST, XML answer): DescribeCacheClusters and
 * RebootCacheCluster. A reboot marks the nodes `rebooting cache cluster nodes`, so a read after it
 * sees its effect. `inject` makes the next reboot reply late (after its effect, or without it).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { LoopbackHttpFake } from './loopback-http-fake';

const NS = 'http://elasticache.amazonaws.com/doc/2015-02-02/';

export type CacheInjection =
  | { readonly kind: 'slow'; readonly delayMs: number; readonly applied: boolean }
  | { readonly kind: 'server-error' };

export class FakeElastiCache extends LoopbackHttpFake {
  public readonly calls: { action: string; params: URLSearchParams }[] = [];
  /** Node id -> status, per cluster. */
  public readonly clusters = new Map<string, Map<string, string>>();
  private readonly injections: CacheInjection[] = [];

  private constructor() {
    super();
  }

  static async start(clusterId: string, nodeIds: readonly string[]): Promise<FakeElastiCache> {
    const fake = new FakeElastiCache();
    await fake.listen();
    fake.clusters.set(clusterId, new Map(nodeIds.map((id) => [id, 'available'])));
    return fake;
  }

  /** Queues injections for the next RebootCacheCluster calls, one per call. */
  injectReboot(...injections: CacheInjection[]): void {
    this.injections.push(...injections);
  }

  callsOf(action: string) {
    return this.calls.filter((c) => c.action === action);
  }

  protected override async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const action = params.get('Action') ?? '';
    this.calls.push({ action, params });
    const clusterId = params.get('CacheClusterId') ?? '';
    const nodes = this.clusters.get(clusterId);
    if (!nodes) {
      this.reply(res, 404, errorXml('CacheClusterNotFound', `${clusterId} not found`));
      return;
    }
    if (action === 'DescribeCacheClusters') {
      this.reply(res, 200, describeXml(clusterId, nodes));
      return;
    }
    if (action !== 'RebootCacheCluster') {
      this.reply(res, 400, errorXml('InvalidAction', `${action} is not faked`));
      return;
    }
    const injection = this.injections.shift();
    if (injection?.kind === 'server-error') {
      this.reply(res, 500, errorXml('InternalFailure', 'Internal failure'));
      return;
    }
    if (!injection || injection.applied) {
      for (const [key, value] of params) {
        if (key.startsWith('CacheNodeIdsToReboot.') && nodes.has(value)) {
          nodes.set(value, 'rebooting cache cluster nodes');
        }
      }
    }
    const body = `<RebootCacheClusterResponse xmlns="${NS}"><RebootCacheClusterResult><CacheCluster><CacheClusterId>${clusterId}</CacheClusterId><CacheClusterStatus>rebooting cache cluster nodes</CacheClusterStatus></CacheCluster></RebootCacheClusterResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></RebootCacheClusterResponse>`;
    if (injection?.kind === 'slow') {
      this.replyLater(res, injection.delayMs, () => this.reply(res, 200, body));
      return;
    }
    this.reply(res, 200, body);
  }

  private reply(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, {
      'content-type': 'text/xml',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }
}

function describeXml(clusterId: string, nodes: ReadonlyMap<string, string>): string {
  const nodeXml = [...nodes]
    .map(
      ([id, status]) =>
        `<CacheNode><CacheNodeId>${id}</CacheNodeId><CacheNodeStatus>${status}</CacheNodeStatus></CacheNode>`,
    )
    .join('');
  return `<DescribeCacheClustersResponse xmlns="${NS}"><DescribeCacheClustersResult><CacheClusters><CacheCluster><CacheClusterId>${clusterId}</CacheClusterId><CacheNodes>${nodeXml}</CacheNodes></CacheCluster></CacheClusters></DescribeCacheClustersResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></DescribeCacheClustersResponse>`;
}

function errorXml(code: string, message: string): string {
  return `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>fake</RequestId></ErrorResponse>`;
}

// stand-in, replaced at merge by F1's module
import type { EdgeRegion } from './geoproximity';

/** A cloudfront-js-2.0 viewer-request function sending every request to the first healthy region. */
export function buildApiRouterFunctionCode(options: {
  regions: readonly EdgeRegion[];
  keyValueStoreId?: string;
}): string {
  const regions = JSON.stringify(options.regions.map((r) => [r.region, r.originId]));
  const store =
    options.keyValueStoreId === undefined ? '' : JSON.stringify(options.keyValueStoreId);
  return [
    "import cf from 'cloudfront';",
    `const kvs = cf.kvs(${store});`,
    `const REGIONS = ${regions};`,
    'async function handler(event) {',
    '  for (const [region, originId] of REGIONS) {',
    "    let value = 'missing';",
    '    try { value = await kvs.get(region); } catch (e) { /* missing */ }',
    "    if (!String(value).startsWith('unhealthy')) { cf.selectRequestOriginById(originId); return event.request; }",
    '  }',
    '  cf.selectRequestOriginById(REGIONS[0][1]);',
    '  return event.request;',
    '}',
  ].join('\n');
}

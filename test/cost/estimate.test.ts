import { estimateMonthlyCost, renderCostEstimate } from '../../lib/cost/estimate';
import { resolveConfig } from '../../lib/load-config';

// Expected figures are worked out by hand from lib/cost/price-table.ts (730 h a month).
describe('estimateMonthlyCost', () => {
  test('prices the default three regions at ~$321 each plus the global layer', () => {
    // WHEN
    const estimate = estimateMonthlyCost(resolveConfig({}));
    // THEN
    const [usEast] = estimate.perRegion;
    expect(Object.fromEntries(usEast.lines.map((l) => [l.item, l.monthlyUsd]))).toEqual({
      'NAT gateways (3)': 98.55, // 3 × 0.045 × 730
      'ALB (1 LCU)': 22.27, // (0.0225 + 0.008) × 730
      'public IPv4 addresses (6)': 21.9, // (3 NAT + 3 ALB) × 0.005 × 730
      'Fargate tasks (3)': 43.25, // 3 × (0.5 × 0.03238 + 1 × 0.00356) × 730
      'cache nodes (3 × cache.t4g.micro)': 35.04, // 3 × 0.016 × 730
      'interface endpoints (4 × 3 AZs)': 87.6, // 12 × 0.01 × 730
      WAF: 8, // 5 + 3 × 1
      'CloudWatch alarms + dashboard': 4.6, // 11 × 0.1 + 0.5 + 3
    });
    expect(usEast.totalUsd).toBe(321.21);
    // 3 string-match health checks at 10 s without HTTPS: 3 × (0.5 + 2 × 1); zone 0.5; CloudFront 1
    expect(estimate.global.map((l) => l.monthlyUsd)).toEqual([7.5, 0.5, 1]);
    expect(estimate.totalUsd).toBe(972.63); // 3 × 321.21 + 9
  });

  test('prices a smaller, bigger-task config with a domain, one NAT and no WAF', () => {
    // GIVEN two regions of two AZs, one NAT each, 5 tasks of 1 vCPU / 2 GiB, t4g.small nodes
    const config = resolveConfig({
      regions: [
        { region: 'us-east-1', availabilityZones: ['us-east-1a', 'us-east-1b'] },
        { region: 'eu-west-1', availabilityZones: ['eu-west-1a', 'eu-west-1b'] },
      ],
      network: { natGateways: 'single' },
      sizing: {
        taskCpu: 1024,
        taskMemoryMiB: 2048,
        desiredTasks: 5,
        minTasks: 2,
        maxTasks: 10,
        cacheNodeType: 'cache.t4g.small',
      },
      waf: { enabled: false },
      domain: { hostedZoneId: 'Z0123456789ABC', zoneName: 'example.com' },
    });
    // WHEN
    const estimate = estimateMonthlyCost(config);
    // THEN
    expect(estimate.perRegion[1].lines.map((l) => l.monthlyUsd)).toEqual([
      32.85, // 1 × 0.045 × 730
      22.27,
      10.95, // (1 NAT + 2 ALB) × 0.005 × 730
      144.18, // 5 × (1 × 0.03238 + 2 × 0.00356) × 730
      46.72, // 2 × 0.032 × 730
      58.4, // 4 × 2 × 0.01 × 730
      0,
      4.6,
    ]);
    expect(estimate.perRegion[1].totalUsd).toBe(319.97);
    // HTTPS is billed too now: 2 × (0.5 + 3 × 1) = 7
    expect(estimate.global[0].monthlyUsd).toBe(7);
    expect(estimate.totalUsd).toBe(648.44); // 2 × 319.97 + 7 + 0.5 + 1
  });

  test('names a cache node type missing from the price table instead of guessing', () => {
    const estimate = estimateMonthlyCost(
      resolveConfig({ sizing: { cacheNodeType: 'cache.x9.huge' } }),
    );
    expect(estimate.basis).toContain('cache.x9.huge is not in the price table and counts as $0');
  });

  test('renders the total, each region and the price basis for the synth summary', () => {
    const text = renderCostEstimate(estimateMonthlyCost(resolveConfig({})));
    expect(text).toBe(
      'Rough monthly cost: $973 (us-east-1 $321, eu-west-1 $321, ap-northeast-1 $321, global $9)\n' +
        '  basis: fixed charges before traffic, 2025, us-east-1 on-demand list prices',
    );
  });
});

import fc from 'fast-check';

import { AWS_REGIONS } from '../../lib/aws-regions';
import {
  biasedDistanceKm,
  chooseRegion,
  greatCircleKm,
  type EdgeRegion,
  type RegionHealth,
} from '../../lib/edge-routing/geoproximity';
import { edgeRegion, REGION_COORDINATES } from '../../lib/edge-routing/region-coordinates';

import { DEFAULT_REGIONS, healthOf, PLACES, ROUTING_CASES } from './cases';

describe('chooseRegion, table-driven', () => {
  test.each(ROUTING_CASES.map((c) => [c.title, c] as const))('%s', (_title, routingCase) => {
    // GIVEN the case's viewer, regions and store WHEN the rule decides
    const decision = chooseRegion(
      routingCase.viewer,
      routingCase.regions,
      healthOf(routingCase.store),
    );

    // THEN the viewer goes to the expected region, for the stated reason
    expect(decision.region.region).toBe(routingCase.expected);
    expect(decision.reason).toContain(routingCase.reason);
  });
});

describe('the bias formula', () => {
  test('is the Route 53 Developer Guide’s worked example: bias 50 makes 150 km count as 75 km', () => {
    expect(biasedDistanceKm(150, 50)).toBe(75);
  });

  test('applies the same formula to a negative bias: −50 makes 100 km count as 150 km', () => {
    expect(biasedDistanceKm(100, -50)).toBe(150);
  });

  test('leaves the distance alone at bias 0', () => {
    expect(biasedDistanceKm(1234, 0)).toBe(1234);
  });
});

describe('greatCircleKm', () => {
  test('measures Ashburn to Dublin as about 5,450 km', () => {
    const km = greatCircleKm(REGION_COORDINATES['us-east-1'], REGION_COORDINATES['eu-west-1']);
    expect(km).toBeGreaterThan(5400);
    expect(km).toBeLessThan(5500);
  });

  test('is zero from a place to itself and half the circumference to its antipode', () => {
    expect(greatCircleKm(PLACES.tokyo, PLACES.tokyo)).toBe(0);
    const half = greatCircleKm({ latitude: 10, longitude: 20 }, { latitude: -10, longitude: -160 });
    expect(half).toBeCloseTo(Math.PI * 6371.0088, 3);
  });

  test('is symmetric and never longer than half the circumference (property)', () => {
    const place = fc.record({
      latitude: fc.double({ min: -90, max: 90, noNaN: true }),
      longitude: fc.double({ min: -180, max: 180, noNaN: true }),
    });
    fc.assert(
      fc.property(place, place, (a, b) => {
        const ab = greatCircleKm(a, b);
        expect(ab).toBeCloseTo(greatCircleKm(b, a), 6);
        expect(ab).toBeGreaterThanOrEqual(0);
        expect(ab).toBeLessThanOrEqual(Math.PI * 6371.0088 + 1e-6);
      }),
    );
  });
});

describe('chooseRegion, properties', () => {
  const viewer = fc.option(
    fc.record({
      latitude: fc.double({ min: -90, max: 90, noNaN: true }),
      longitude: fc.double({ min: -180, max: 180, noNaN: true }),
    }),
    { nil: undefined },
  );
  const regionNames = AWS_REGIONS.slice();
  const regions = fc
    .uniqueArray(fc.constantFrom(...regionNames), { minLength: 1, maxLength: 6 })
    .chain((names) =>
      fc.tuple(
        fc.constant(names),
        fc.array(fc.integer({ min: -99, max: 99 }), {
          minLength: names.length,
          maxLength: names.length,
        }),
        fc.array(fc.constantFrom<RegionHealth>('healthy', 'unhealthy', 'missing'), {
          minLength: names.length,
          maxLength: names.length,
        }),
      ),
    )
    .map(([names, biases, states]) => ({
      regions: names.map((name, i) => edgeRegion(name, biases[i], `api-${name}`)),
      health: new Map(names.map((name, i) => [name, states[i]])),
    }));

  test('never routes to an unhealthy region while another region is not unhealthy', () => {
    fc.assert(
      fc.property(viewer, regions, (where, { regions: list, health }) => {
        const decision = chooseRegion(where, list, (name) => health.get(name) ?? 'missing');
        expect(list).toContain(decision.region);
        const anyAvailable = [...health.values()].some((state) => state !== 'unhealthy');
        if (anyAvailable) expect(health.get(decision.region.region)).not.toBe('unhealthy');
        else expect(decision.reason).toContain('every region is unhealthy');
      }),
    );
  });

  test('raising the chosen region’s bias never moves the viewer away from it', () => {
    fc.assert(
      fc.property(
        viewer,
        regions,
        fc.integer({ min: 1, max: 50 }),
        (where, { regions: list, health }, raise) => {
          const lookup = (name: string) => health.get(name) ?? 'missing';
          const chosen = chooseRegion(where, list, lookup).region;
          const raised: EdgeRegion[] = list.map((region) =>
            region === chosen ? { ...region, bias: Math.min(99, region.bias + raise) } : region,
          );
          expect(chooseRegion(where, raised, lookup).region.region).toBe(chosen.region);
        },
      ),
    );
  });

  test('treats a missing entry exactly as a healthy one when choosing', () => {
    fc.assert(
      fc.property(viewer, regions, (where, { regions: list, health }) => {
        const asIs = chooseRegion(where, list, (name) => health.get(name) ?? 'missing');
        const filled = chooseRegion(where, list, (name) =>
          health.get(name) === 'unhealthy' ? 'unhealthy' : 'healthy',
        );
        expect(asIs.region).toBe(filled.region);
      }),
    );
  });
});

describe('chooseRegion, bad input', () => {
  test('refuses an empty region list with a message naming it', () => {
    expect(() => chooseRegion(PLACES.berlin, [], () => 'healthy')).toThrow(
      'chooseRegion needs at least one region, got none',
    );
  });

  test.each([
    ['a latitude beyond the pole', { latitude: 91, longitude: 0 }],
    ['a longitude beyond the antimeridian', { latitude: 0, longitude: 181 }],
    ['a latitude that is not a number', { latitude: Number.NaN, longitude: 0 }],
    ['an infinite longitude', { latitude: 0, longitude: Number.POSITIVE_INFINITY }],
  ])('treats %s as no location', (_what, where) => {
    const decision = chooseRegion(where, DEFAULT_REGIONS, () => 'healthy');
    expect(decision.region.region).toBe('us-east-1');
    expect(decision.reason).toContain('no viewer location');
  });
});

describe('REGION_COORDINATES', () => {
  test('places every region the blueprint accepts, and no other', () => {
    expect(Object.keys(REGION_COORDINATES).sort()).toEqual([...AWS_REGIONS].sort());
  });

  test('holds coordinates in range for every region', () => {
    for (const [region, where] of Object.entries(REGION_COORDINATES)) {
      expect({
        region,
        ok: Math.abs(where.latitude) <= 90 && Math.abs(where.longitude) <= 180,
      }).toEqual({
        region,
        ok: true,
      });
    }
  });

  test('edgeRegion names the known regions when asked for an unknown one', () => {
    expect(() => edgeRegion('moon-base-1', 0, 'x')).toThrow(
      /no coordinates for region "moon-base-1"; known regions: af-south-1, .*us-west-2$/,
    );
  });
});

// ai_gateway_route_backends_available: read from the router at each scrape, one series per
// configured route, gone with its route.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsRegistry } from './metrics-registry';

test('exports each route’s backends in rotation, read afresh at each scrape', async () => {
  const m = new MetricsRegistry({ collectDefaultMetrics: false });
  let routes = [
    { route: 'chat', available: 2 },
    { route: 'embed', available: 0 },
  ];
  m.watchRouteBackends(() => routes);
  const lines = async () =>
    (await m.metrics())
      .split('\n')
      .filter((line) => line.startsWith('ai_gateway_route_backends_available{'));
  assert.deepEqual(await lines(), [
    'ai_gateway_route_backends_available{route="chat"} 2',
    'ai_gateway_route_backends_available{route="embed"} 0',
  ]);
  // A reload removed the embed route.
  routes = [{ route: 'chat', available: 1 }];
  assert.deepEqual(await lines(), ['ai_gateway_route_backends_available{route="chat"} 1']);
});

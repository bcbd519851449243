// Kubernetes resources kept beside the gateway's config (the spec's ServiceMonitor) are
// skipped with a note; anything else the loader does not know stays an error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from './load-config';

const options = { env: {}, sourceName: 'gw.yaml' } as const;
const ROUTE = `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: local, provider: local, model: m}
`;
const monitor = (kind: string, apiVersion = 'monitoring.coreos.com/v1') =>
  `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: ai-gateway}\nspec:\n  selector: {matchLabels: {app: ai-gateway}}\n`;

function errorsOf(text: string): string[] {
  const result = parseGatewayConfig(text, options);
  assert.ok(!result.ok, 'expected the file to be refused');
  return result.errors.map((e) => e.format());
}

describe('documents that belong beside the gateway config', () => {
  it('a ServiceMonitor beside a route is skipped with a note; the route loads', () => {
    const result = parseGatewayConfig(`${ROUTE}---\n${monitor('ServiceMonitor')}`, options);
    assert.ok(result.ok, !result.ok ? result.errors.map((e) => e.format()).join('\n') : '');
    assert.deepEqual(
      result.config.routes.map((r) => r.name),
      ['r'],
    );
    assert.equal(result.config.documentCount, 2);
    assert.equal(result.skippedDocuments, 1);
    assert.deepEqual(result.notes, [
      'gw.yaml:8: document 2 (ServiceMonitor "ai-gateway"): skipped: ServiceMonitor is a Prometheus Operator resource for the cluster, not gateway configuration (the gateway serves /stats/prometheus on its admin port)',
    ]);
    assert.deepEqual(result.warnings, []);
  });

  it('the other Prometheus Operator kinds are skipped too', () => {
    for (const kind of ['PodMonitor', 'PrometheusRule', 'Probe', 'ScrapeConfig']) {
      const apiVersion = kind === 'ScrapeConfig' ? 'monitoring.coreos.com/v1alpha1' : undefined;
      const result = parseGatewayConfig(`${ROUTE}---\n${monitor(kind, apiVersion)}`, options);
      assert.ok(result.ok, kind);
      assert.match(result.notes[0] ?? '', new RegExp(`skipped: ${kind} is a Prometheus Operator`));
    }
  });

  it('a misspelt kind in that group is an error naming the kinds it knows', () => {
    assert.deepEqual(errorsOf(`${ROUTE}---\n${monitor('ServiceMonitr')}`), [
      'gw.yaml:9: document 2 (ServiceMonitr "ai-gateway"): kind: unknown kind "ServiceMonitr" in monitoring.coreos.com: expected ServiceMonitor, PodMonitor, Probe, PrometheusRule, ScrapeConfig',
    ]);
  });

  it('a ServiceMonitor without its apiVersion, or in another group, is an error', () => {
    const [missing] = errorsOf('kind: ServiceMonitor\nmetadata: {name: m}\n');
    assert.match(
      missing ?? '',
      /apiVersion: ServiceMonitor belongs to API group monitoring\.coreos\.com \(apiVersion monitoring\.coreos\.com\/v1\), got none$/,
    );
    const [elsewhere] = errorsOf(monitor('ServiceMonitor', 'example.com/v1'));
    assert.match(elsewhere ?? '', /got "example\.com\/v1"$/);
  });

  it('an unknown kind in our own API group stays an error, even a neighbour kind', () => {
    for (const kind of ['AIGatewayRout', 'ServiceMonitor']) {
      const [line] = errorsOf(monitor(kind, 'gateway.envoyproxy.io/v1alpha1'));
      assert.match(
        line ?? '',
        new RegExp(`kind: unknown kind "${kind}": expected AIGatewayRoute or SecurityPolicy$`),
      );
    }
    const [other] = errorsOf(monitor('Backend', 'aigateway.envoyproxy.io/v1alpha1'));
    assert.match(other ?? '', /unknown kind "Backend"/);
  });

  it('a document with no kind but Kubernetes fields stays an error', () => {
    const [line] = errorsOf(
      'apiVersion: monitoring.coreos.com/v1\nmetadata: {name: m}\nspec: {}\n',
    );
    assert.match(line ?? '', /kind: is required \(AIGatewayRoute or SecurityPolicy\)$/);
  });

  it('other Kubernetes kinds are not skipped', () => {
    const [line] = errorsOf('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n');
    assert.match(line ?? '', /unknown kind "ConfigMap"/);
  });
});

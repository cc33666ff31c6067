import { proxyTarget } from './proxy-target';

describe('proxyTarget', () => {
  it.each<[string, string, ReturnType<typeof proxyTarget>]>([
    ['Test scenario: a hook delivery log with its query', '/console/api/dispatcher/v1/hooks/12/deliveries?limit=50&status=failed', { service: 'dispatcher', pathAndQuery: '/v1/hooks/12/deliveries?limit=50&status=failed' }],
    ['Test scenario: redeliver one webhook', '/console/api/dispatcher/v1/deliveries/msg_2Ab-c/redeliver', { service: 'dispatcher', pathAndQuery: '/v1/deliveries/msg_2Ab-c/redeliver' }],
    ['Test scenario: recover since', '/console/api/dispatcher/v1/hooks/3/recover', { service: 'dispatcher', pathAndQuery: '/v1/hooks/3/recover' }],
    ['Test scenario: the undelivered view', '/console/api/dispatcher/v1/deliveries?status=failed', { service: 'dispatcher', pathAndQuery: '/v1/deliveries?status=failed' }],
    ['Test scenario: integrations', '/console/api/ingest-gateway/v1/integrations', { service: 'ingest-gateway', pathAndQuery: '/v1/integrations' }],
    ['Test scenario: revoke a URL', '/console/api/ingest-gateway/v1/integrations/4/urls/9', { service: 'ingest-gateway', pathAndQuery: '/v1/integrations/4/urls/9' }],
    ['Test scenario: a simulation', '/console/api/load-simulator/v1/simulations', { service: 'load-simulator', pathAndQuery: '/v1/simulations' }],
    ['Test scenario: the integrations\' load figures', '/console/api/load-simulator/v1/integration-loads', { service: 'load-simulator', pathAndQuery: '/v1/integration-loads' }],
    ['Test scenario: the registry itself is not proxied', '/console/api/hook-registry/v1/destinations', undefined],
    ['Test scenario: an unknown service', '/console/api/postgres/v1/x', undefined],
    ['Test scenario: a prototype name is not a service', '/console/api/constructor/v1/hooks/1/deliveries', undefined],
    ['Test scenario: metrics are not reachable', '/console/api/dispatcher/metrics', undefined],
    ['Test scenario: docs are not reachable', '/console/api/load-simulator/docs', undefined],
    ['Test scenario: incoming-webhook URLs (tokens) are not reachable', '/console/api/ingest-gateway/v1/incoming/tok_abc', undefined],
    ['Test scenario: dot segments', '/console/api/dispatcher/v1/hooks/1/../../metrics', undefined],
    ['Test scenario: encoded dot segments', '/console/api/dispatcher/v1/hooks/1/%2e%2e/deliveries', undefined],
    ['Test scenario: an encoded slash', '/console/api/dispatcher/v1/hooks/1%2fdeliveries', undefined],
    ['Test scenario: a backslash', '/console/api/dispatcher/v1/hooks/1\\deliveries', undefined],
    ['Test scenario: no path', '/console/api/dispatcher', undefined],
  ])('%s', (_, url, expected) => {
    expect(proxyTarget(url)).toEqual(expected);
  });
});

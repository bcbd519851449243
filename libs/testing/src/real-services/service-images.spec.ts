import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OFFICIAL_IMAGES, serviceImage } from './service-images';

describe('serviceImage', () => {
  it('runs the official image when nothing is set', () => {
    assert.deepEqual(serviceImage('redis', {}), {
      image: OFFICIAL_IMAGES.redis,
      flavor: 'official',
    });
  });

  it("runs scripts/infra's image, with its own start commands, when it was built", () => {
    const env = { AIGW_SERVICES_IMAGE: 'localhost/aigw-services:abc' };
    for (const service of ['redis', 'kafka', 'clickhouse'] as const) {
      assert.deepEqual(serviceImage(service, env), {
        image: 'localhost/aigw-services:abc',
        flavor: 'aigw',
      });
    }
  });

  it('lets a per-service variable win, taken as compatible with the official image', () => {
    const env = {
      AIGW_SERVICES_IMAGE: 'localhost/aigw-services:abc',
      KAFKA_IMAGE: ' bitnami/kafka:3.9 ',
    };
    assert.deepEqual(serviceImage('kafka', env), {
      image: 'bitnami/kafka:3.9',
      flavor: 'official',
    });
    assert.equal(serviceImage('redis', env).flavor, 'aigw');
  });

  it('ignores a blank variable', () => {
    assert.deepEqual(serviceImage('clickhouse', { CLICKHOUSE_IMAGE: '  ' }), {
      image: OFFICIAL_IMAGES.clickhouse,
      flavor: 'official',
    });
  });
});

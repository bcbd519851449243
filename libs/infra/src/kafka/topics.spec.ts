import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Admin } from 'kafkajs';
import { ensureTopics } from './topics';

const retriable = (type: string) => Object.assign(new Error(type), { retriable: true, type });

/** Just enough of kafkajs' Admin for topic creation, scripted call by call. */
function scriptedAdmin(script: {
  listTopics: string[][];
  createTopics?: () => Promise<boolean>;
  metadata: (() => unknown)[];
}): Admin & { metadataCalls: number } {
  const admin = {
    metadataCalls: 0,
    listTopics: async () => script.listTopics.shift() ?? [],
    createTopics: script.createTopics ?? (async () => true),
    fetchTopicMetadata: async () => {
      const step = script.metadata[Math.min(admin.metadataCalls++, script.metadata.length - 1)];
      return step();
    },
  };
  return admin as unknown as Admin & { metadataCalls: number };
}

const served = (name: string, leader = 1) => ({
  topics: [{ name, partitions: [{ partitionId: 0, leader }] }],
});

describe('ensureTopics', () => {
  it('waits out a broker that does not serve a fresh topic yet', async () => {
    const admin = scriptedAdmin({
      listTopics: [[]],
      createTopics: async () => {
        throw retriable('UNKNOWN_TOPIC_OR_PARTITION');
      },
      metadata: [
        () => {
          throw retriable('UNKNOWN_TOPIC_OR_PARTITION');
        },
        () => served('t', -1), // no leader yet
        () => served('t'),
      ],
    });
    assert.deepEqual(await ensureTopics(admin, [{ topic: 't', partitions: 1 }]), ['t']);
    assert.equal(admin.metadataCalls, 3);
  });

  it('accepts topics another instance created in between', async () => {
    const admin = scriptedAdmin({
      listTopics: [[], ['t']],
      createTopics: async () => {
        throw new Error('TOPIC_ALREADY_EXISTS');
      },
      metadata: [() => served('t')],
    });
    assert.deepEqual(await ensureTopics(admin, [{ topic: 't', partitions: 1 }]), ['t']);
  });

  it('fails on an error that is neither transient nor a lost race', async () => {
    const admin = scriptedAdmin({
      listTopics: [[], []],
      createTopics: async () => {
        throw new Error('POLICY_VIOLATION');
      },
      metadata: [() => served('t')],
    });
    await assert.rejects(ensureTopics(admin, [{ topic: 't', partitions: 1 }]), /POLICY_VIOLATION/);
  });

  it('creates nothing when every topic exists', async () => {
    const admin = scriptedAdmin({ listTopics: [['t']], metadata: [] });
    assert.deepEqual(await ensureTopics(admin, [{ topic: 't', partitions: 1 }]), []);
  });
});

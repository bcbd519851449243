// scripts/infra/cleanup.sh against real containers on the engine: a test container whose
// owner process is gone is removed, with the network and volume of its compose project
// (as a hard-killed compose smoke test leaves them), and one whose owner is alive (this
// process) is kept.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { type HostConfig } from 'dockerode';
import { getContainerRuntimeClient, ImageName } from 'testcontainers';
import { engineSkipReason } from './engine';
import { OWNER_LABEL, SERVICE_LABEL, TEST_LABEL, ownerId } from './service-container';
import { serviceImage } from './service-images';

const cleanupScript = join(__dirname, '..', '..', '..', '..', 'scripts', 'infra', 'cleanup.sh');
const skip = engineSkipReason('two containers of its own for cleanup.sh to sort out');

/** The owner label of a process that has exited (pid and start time, read while it ran). */
async function deadOwner(): Promise<string> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  await once(child, 'spawn');
  const owner = ownerId(child.pid);
  assert.doesNotMatch(owner, /unknown$/, 'the start time of the owner was read');
  child.kill('SIGKILL');
  await once(child, 'exit'); // reaped: /proc no longer has it
  return owner;
}

function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number } | null)?.statusCode === 404;
}

/** Removes what a test made, unless cleanup.sh already did. */
async function removeIfThere(remove: () => Promise<unknown>): Promise<void> {
  await remove().catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
}

const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';

test(
  'cleanup.sh removes what a dead owner left (its compose project too) and keeps a live owner’s',
  { skip },
  async () => {
    const client = await getContainerRuntimeClient();
    const { dockerode } = client.container;
    // The services image in podman mode (it has coreutils' sleep); the official Redis one,
    // Debian-based too, with Docker.
    const { image } = serviceImage('redis');
    const name = ImageName.fromString(image);
    if (!(await client.image.exists(name))) await client.image.pull(name);

    const run = randomUUID().slice(0, 8);
    // What compose leaves of a project: its network and named volume carry the project label.
    const project = `aigw-cleanup-test-${run}`;
    const network = await dockerode.createNetwork({
      Name: `${project}_default`,
      Labels: { [COMPOSE_PROJECT_LABEL]: project },
    });
    const volume = await dockerode.createVolume({
      Name: `${project}_data`,
      Labels: { [COMPOSE_PROJECT_LABEL]: project },
    });
    const create = async (
      owner: string,
      role: string,
      more: { labels?: Record<string, string>; hostConfig?: HostConfig } = {},
    ) => {
      const container = await client.container.create({
        Image: image,
        Cmd: ['sleep', '600'],
        // sleep as pid 1 ignores SIGTERM: without this every removal waits out a stop timeout.
        StopSignal: 'SIGKILL',
        Labels: {
          [TEST_LABEL]: '1',
          [OWNER_LABEL]: owner,
          [SERVICE_LABEL]: `cleanup-test-${role}-${run}`,
          ...more.labels,
        },
        ...(more.hostConfig ? { HostConfig: more.hostConfig } : {}),
      });
      await client.container.start(container);
      return container;
    };
    const made: { remove(): Promise<unknown> }[] = [volume, network];
    try {
      const dead = await create(await deadOwner(), 'dead', {
        labels: { [COMPOSE_PROJECT_LABEL]: project },
        hostConfig: { NetworkMode: network.id, Binds: [`${volume.name}:/data`] },
      });
      made.unshift({ remove: () => dead.remove({ force: true, v: true }) });
      const live = await create(ownerId(), 'live');
      made.unshift({ remove: () => live.remove({ force: true, v: true }) });
      for (const container of [dead, live]) {
        assert.equal((await container.inspect()).State.Running, true, 'running before cleanup');
      }

      const result = spawnSync('bash', [cleanupScript], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(result.status, 0, `cleanup.sh failed: ${result.stderr}`);
      // At least ours; other leftovers of dead runs on this machine may go with it.
      assert.match(result.stdout, /removed \d+ test container/);
      assert.match(result.stdout, new RegExp(`removed compose project ${project}$`, 'm'));

      await assert.rejects(dead.inspect(), isNotFound, 'the dead owner’s container is gone');
      await assert.rejects(network.inspect(), isNotFound, 'its project’s network is gone');
      await assert.rejects(volume.inspect(), isNotFound, 'its project’s volume is gone');
      const kept = await live.inspect();
      assert.equal(kept.State.Running, true, 'the live owner’s container still runs');
      assert.equal(kept.Config.Labels[OWNER_LABEL], ownerId());
    } finally {
      // Containers first: a network or volume in use cannot be removed.
      for (const thing of made) await removeIfThere(() => thing.remove());
    }
  },
);

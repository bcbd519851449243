// scripts/infra/cleanup.sh against real containers on the engine: a test container whose
// owner process is gone is removed, one whose owner is alive (this process) is kept.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
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

test(
  'cleanup.sh removes a container whose owner is gone and keeps a live owner’s',
  { skip },
  async () => {
    const client = await getContainerRuntimeClient();
    // The services image in podman mode (it has coreutils' sleep); the official Redis one,
    // Debian-based too, with Docker.
    const { image } = serviceImage('redis');
    const name = ImageName.fromString(image);
    if (!(await client.image.exists(name))) await client.image.pull(name);

    const run = randomUUID().slice(0, 8);
    const create = async (owner: string, role: string) => {
      const container = await client.container.create({
        Image: image,
        Cmd: ['sleep', '600'],
        // sleep as pid 1 ignores SIGTERM: without this every removal waits out a stop timeout.
        StopSignal: 'SIGKILL',
        Labels: {
          [TEST_LABEL]: '1',
          [OWNER_LABEL]: owner,
          [SERVICE_LABEL]: `cleanup-test-${role}-${run}`,
        },
      });
      await client.container.start(container);
      return container;
    };
    const dead = await create(await deadOwner(), 'dead');
    try {
      const live = await create(ownerId(), 'live');
      try {
        for (const container of [dead, live]) {
          assert.equal((await container.inspect()).State.Running, true, 'running before cleanup');
        }

        const result = spawnSync('bash', [cleanupScript], { encoding: 'utf8', timeout: 120_000 });
        assert.equal(result.status, 0, `cleanup.sh failed: ${result.stderr}`);
        // At least ours; other leftovers of dead runs on this machine may go with it.
        assert.match(result.stdout, /removed \d+ test container/);

        await assert.rejects(dead.inspect(), isNotFound, 'the dead owner’s container is gone');
        const kept = await live.inspect();
        assert.equal(kept.State.Running, true, 'the live owner’s container still runs');
        assert.equal(kept.Config.Labels[OWNER_LABEL], ownerId());
      } finally {
        await live.remove({ force: true, v: true });
      }
    } finally {
      await dead.remove({ force: true, v: true }).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
    }
  },
);

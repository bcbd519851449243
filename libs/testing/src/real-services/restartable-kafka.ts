// A Kafka broker of the suite's own, which the suite can take down and bring back
// (outage tests). Never the shared one from KAFKA_BROKERS: stopping that would break
// every other suite of the run. Its port is published 1:1 and its log directory lives
// in the container, so a restarted broker has the same address and keeps its data.
import { getContainerRuntimeClient, Wait } from 'testcontainers';
import { freeLoopbackPort } from './free-port';
import { kafkaEnv, type StartOptions } from './real-services';
import { LOOPBACK, startServiceContainer } from './service-container';
import { serviceImage } from './service-images';

export interface RestartableKafka {
  /** host:port, unchanged across restarts. */
  readonly url: string;
  /** Stops the broker process (the container stays, with its data). */
  stopBroker(): Promise<void>;
  /** Starts it again and waits until it is ready. */
  startBroker(): Promise<void>;
  /**
   * Freezes the broker (the container paused): its connections stay open and nothing is
   * answered, as a broker whose host hangs or whose network drops packets.
   */
  freezeBroker(): Promise<void>;
  /** Lets a frozen broker go on. */
  thawBroker(): Promise<void>;
  /** Removes the container. */
  stop(): Promise<void>;
}

export async function startRestartableKafka(options: StartOptions = {}): Promise<RestartableKafka> {
  const env = options.env ?? process.env;
  const { image, flavor } = serviceImage('kafka', env);
  const fromEnv = Number(env.AIGW_SERVICE_START_TIMEOUT_MS);
  const timeoutMs =
    options.timeoutMs ?? (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 120_000);
  const port = await freeLoopbackPort();
  const { container } = await startServiceContainer({
    service: 'kafka',
    image,
    ...(flavor === 'aigw' ? { command: ['aigw-kafka'] } : {}),
    env: kafkaEnv(port),
    ports: [{ container: port, host: port }],
    wait: Wait.forLogMessage(/Kafka Server started/),
    timeoutMs,
  });
  return {
    url: `${LOOPBACK}:${port}`,
    stopBroker: async () => {
      const client = await getContainerRuntimeClient();
      await client.container.stop(client.container.getById(container.getId()), { timeout: 2_000 });
    },
    // A restart of a stopped container starts it and waits for the readiness log line
    // written after this start.
    startBroker: () => container.restart(),
    freezeBroker: async () => {
      const client = await getContainerRuntimeClient();
      await client.container.getById(container.getId()).pause();
    },
    thawBroker: async () => {
      const client = await getContainerRuntimeClient();
      await client.container.getById(container.getId()).unpause();
    },
    stop: async () => void (await container.stop({ remove: true, timeout: 2_000 })),
  };
}

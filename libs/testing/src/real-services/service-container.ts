// Starts one service container through testcontainers with the guarantees the suites
// rely on: ports published on 127.0.0.1 only, labels that scripts/infra/cleanup.sh finds,
// and a start that ends within a deadline with the service's own last log lines.
import { readFileSync } from 'node:fs';
import { type Readable } from 'node:stream';
import { GenericContainer, type StartedTestContainer, type WaitStrategy } from 'testcontainers';

export const TEST_LABEL = 'aigw.test';
export const OWNER_LABEL = 'aigw.test.owner';
export const SERVICE_LABEL = 'aigw.test.service';

/** The only address published ports are bound to, and so the one tests connect to. */
export const LOOPBACK = '127.0.0.1';

const LOG_LINES_KEPT = 40;

export interface ContainerSpec {
  readonly service: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Container ports; a number publishes on a random host port, a pair 1:1 as given. */
  readonly ports: readonly (number | { container: number; host: number })[];
  readonly wait: WaitStrategy;
  readonly timeoutMs: number;
}

export interface StartedServiceContainer {
  readonly container: StartedTestContainer;
  /** The service's most recent output, for failure messages. */
  recentLogs(): string;
}

export class ServiceStartError extends Error {
  constructor(
    readonly service: string,
    message: string,
    readonly logs: string,
  ) {
    super(
      `${service}: ${message}\n--- last ${service} log lines ---\n${logs || '(no output)'}\n---`,
    );
    this.name = 'ServiceStartError';
  }
}

/** Publishes every port on 127.0.0.1: the containers are never reachable from outside. */
class LoopbackContainer extends GenericContainer {
  protected override async beforeContainerCreated(): Promise<void> {
    // dockerode types PortBindings as `any`; its shape is { "6379/tcp": [{ HostPort }] }.
    const bindings = (this.hostConfig.PortBindings ?? {}) as Record<
      string,
      { HostPort?: string }[]
    >;
    for (const key of Object.keys(bindings)) {
      bindings[key] = (bindings[key] ?? []).map((b) => ({ ...b, HostIp: LOOPBACK }));
    }
    this.hostConfig.PortBindings = bindings;
  }
}

/**
 * "<pid>-<start time>" of a process (this one by default), as cleanup.sh checks it for
 * being alive: a reused pid has another start time.
 */
export function ownerId(pid: number = process.pid): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${pid}-${fields[19]}`;
  } catch {
    return `${pid}-unknown`;
  }
}

class LogTail {
  private readonly lines: string[] = [];
  private partial = '';

  attach(stream: Readable): void {
    stream.on('data', (chunk: Buffer | string) => this.push(chunk.toString()));
    stream.on('error', () => undefined);
  }

  private push(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      if (line.trim() === '') continue;
      this.lines.push(line.trimEnd());
      if (this.lines.length > LOG_LINES_KEPT) this.lines.shift();
    }
  }

  text(): string {
    return [...this.lines, ...(this.partial ? [this.partial] : [])].join('\n');
  }
}

export async function startServiceContainer(spec: ContainerSpec): Promise<StartedServiceContainer> {
  // For a Docker socket testcontainers would probe readiness on `localhost` (maybe ::1)
  // or a bridge gateway, where nothing is published; env.sh sets this too.
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= LOOPBACK;
  const tail = new LogTail();
  const definition = new LoopbackContainer(spec.image)
    .withExposedPorts(...spec.ports)
    .withEnvironment({ ...spec.env })
    .withLabels({ [TEST_LABEL]: '1', [OWNER_LABEL]: ownerId(), [SERVICE_LABEL]: spec.service })
    .withWaitStrategy(spec.wait)
    .withStartupTimeout(spec.timeoutMs)
    .withLogConsumer((stream) => tail.attach(stream));
  if (spec.command) definition.withCommand([...spec.command]);

  const starting = definition.start();
  // testcontainers bounds the wait for readiness; this bounds everything else too (image
  // pulls, an engine that stops answering), so a suite fails instead of hanging.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`did not start within ${spec.timeoutMs + 15_000} ms`)),
      spec.timeoutMs + 15_000,
    );
    timer.unref();
  });
  try {
    const container = await Promise.race([starting, deadline]);
    return { container, recentLogs: () => tail.text() };
  } catch (error) {
    // A start that finishes after the deadline still gets stopped.
    starting.then(
      (late) => late.stop({ remove: true }),
      () => undefined,
    );
    // Let the log stream deliver what the service printed last before it was removed.
    await new Promise((resolve) => setTimeout(resolve, 300));
    let reason = error instanceof Error ? error.message : String(error);
    if (/container runtime strategy/i.test(reason)) {
      reason +=
        ' (no container engine answers: run `source scripts/infra/env.sh && bash scripts/infra/up.sh`, or give the address in the environment)';
    }
    throw new ServiceStartError(
      spec.service,
      `${spec.image} did not become ready: ${reason}`,
      tail.text(),
    );
  } finally {
    clearTimeout(timer);
  }
}

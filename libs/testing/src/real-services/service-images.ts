// Which image runs each service. On a machine with Docker the official images; where
// scripts/infra built the all-in-one Debian image (AIGW_SERVICES_IMAGE), that one, with
// its own start commands. A per-service variable (REDIS_IMAGE, ...) always wins and is
// taken to be compatible with the official image.

export type ServiceName = 'redis' | 'kafka' | 'clickhouse';

export interface ServiceImage {
  readonly image: string;
  /** `aigw`: scripts/infra's image, started with its aigw-* commands. */
  readonly flavor: 'official' | 'aigw';
}

export const OFFICIAL_IMAGES: Readonly<Record<ServiceName, string>> = {
  redis: 'redis:7',
  kafka: 'apache/kafka:latest',
  clickhouse: 'clickhouse/clickhouse-server:latest',
};

const IMAGE_VARS: Readonly<Record<ServiceName, string>> = {
  redis: 'REDIS_IMAGE',
  kafka: 'KAFKA_IMAGE',
  clickhouse: 'CLICKHOUSE_IMAGE',
};

export function serviceImage(
  service: ServiceName,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ServiceImage {
  const own = env[IMAGE_VARS[service]]?.trim();
  if (own) return { image: own, flavor: 'official' };
  const local = env.AIGW_SERVICES_IMAGE?.trim();
  if (local) return { image: local, flavor: 'aigw' };
  return { image: OFFICIAL_IMAGES[service], flavor: 'official' };
}

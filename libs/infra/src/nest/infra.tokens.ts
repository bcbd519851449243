/** Injection tokens for the clients InfraModule provides. */
export const KAFKA_CLIENT = Symbol('KAFKA_CLIENT');
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
export const CLICKHOUSE_CLIENT = Symbol('CLICKHOUSE_CLIENT');

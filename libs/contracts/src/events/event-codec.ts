import { validateSync } from 'class-validator';
import { ContractsError, ContractsErrorCode } from '../contracts.errors';
import { err, ok, type Result } from '../result';
import { isTopic } from '../topics';
import {
  flattenValidationErrors,
  CONSUMED_EVENT_VALIDATION,
  STRICT_VALIDATION,
  validatePlain,
} from '../validation/validate-plain';
import { instanceIfValid } from './compiled-event-check';
import {
  EVENT_CATALOG,
  isEventTopic,
  topicForType,
  type EventSpec,
  type EventTopic,
  type GatewayEvent,
  type TopicEventMap,
} from './event-catalog';

/** Header names carried beside the JSON body, so routing needs no parse. */
export const EVENT_HEADERS = {
  contentType: 'content-type',
  eventType: 'aigw-event-type',
  eventVersion: 'aigw-event-version',
  eventId: 'aigw-event-id',
} as const;

/** An event's routing fields and JSON body: all a log needs to store it. */
export interface SerializedEvent {
  readonly topic: EventTopic;
  /** Kafka message key: decides the partition and, on compacted topics, what survives. */
  readonly key: string;
  readonly eventId: string;
  readonly json: string;
}

/** A message ready for a Kafka producer (the shape kafkajs `Message` accepts plus topic). */
export interface EncodedEvent {
  readonly topic: EventTopic;
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Record<string, string>;
}

export interface EncodeOptions {
  /** Validate before encoding (tests, embedded bus). Off by default: it costs CPU per event. */
  readonly validate?: boolean;
}

/** Where an event goes: its topic, Kafka message key and id; the JSON body apart. */
export type EventRoute = Omit<SerializedEvent, 'json'>;

/**
 * Checks an event against its topic's contract and says where it goes, without writing its
 * JSON (the embedded bus writes that when it flushes). Throws ContractsError: a bad event is
 * a producer bug.
 */
export function routeEvent(event: GatewayEvent, options: EncodeOptions = {}): EventRoute {
  const topic = topicForType(event.type);
  const spec = EVENT_CATALOG[topic] as EventSpec<GatewayEvent>;
  // Typed as the literal today; widened so a stale object built by hand is still caught.
  const version: number = event.version;
  const type: string = event.type;
  if (version !== spec.version) {
    throw new ContractsError(
      ContractsErrorCode.UnknownVersion,
      `cannot publish ${type} version ${version}: ${topic} carries version ${spec.version}`,
      { topic },
    );
  }
  if (options.validate) {
    const issues = flattenValidationErrors(validateSync(event, STRICT_VALIDATION));
    if (issues.length > 0) {
      throw new ContractsError(
        ContractsErrorCode.InvalidPayload,
        `${event.type} is invalid: ${issues.map((i) => i.message).join('; ')}`,
        { topic, issues },
      );
    }
  }
  return { topic, key: spec.messageKey(event), eventId: event.eventId };
}

/**
 * Serialises an event for its topic, without the Kafka message's Buffer and headers (the
 * embedded log stores the JSON text as is). Throws ContractsError as `routeEvent` does.
 */
export function serializeEvent(event: GatewayEvent, options: EncodeOptions = {}): SerializedEvent {
  return withJson(routeEvent(event, options), event);
}

/** A routed event with its JSON body. */
export function withJson(route: EventRoute, event: GatewayEvent): SerializedEvent {
  return {
    topic: route.topic,
    key: route.key,
    eventId: route.eventId,
    json: JSON.stringify(event),
  };
}

/** Serialises an event as a Kafka message. Throws ContractsError as `serializeEvent` does. */
export function encodeEvent(event: GatewayEvent, options: EncodeOptions = {}): EncodedEvent {
  const { topic, key, eventId, json } = serializeEvent(event, options);
  return {
    topic,
    key,
    value: Buffer.from(json),
    headers: {
      [EVENT_HEADERS.contentType]: 'application/json',
      [EVENT_HEADERS.eventType]: event.type,
      [EVENT_HEADERS.eventVersion]: String(event.version),
      [EVENT_HEADERS.eventId]: eventId,
    },
  };
}

/**
 * Parses and validates a message from `topic`. Every failure is a typed ContractsError
 * the consumer should dead-letter: retrying a message this build cannot read never helps,
 * and skipping it silently would lose usage.
 */
export function decodeEvent<T extends EventTopic>(
  topic: T,
  value: Buffer | string | null | undefined,
): Result<TopicEventMap[T], ContractsError>;
export function decodeEvent(
  topic: string,
  value: Buffer | string | null | undefined,
): Result<GatewayEvent, ContractsError>;
export function decodeEvent(
  topic: string,
  value: Buffer | string | null | undefined,
): Result<GatewayEvent, ContractsError> {
  if (!isEventTopic(topic)) {
    const why = isTopic(topic) ? 'carries no gateway events' : 'is not a gateway topic';
    return fail(ContractsErrorCode.UnknownTopic, `topic "${topic}" ${why}`, topic);
  }
  const spec = EVENT_CATALOG[topic] as EventSpec<GatewayEvent>;

  if (value === null || value === undefined || value.length === 0) {
    return fail(ContractsErrorCode.MalformedJson, `empty message on ${topic}`, topic);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail(
      ContractsErrorCode.MalformedJson,
      `message on ${topic} is not JSON: ${reason}`,
      topic,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail(
      ContractsErrorCode.MalformedJson,
      `message on ${topic} is not a JSON object`,
      topic,
    );
  }

  const { type, version } = parsed as { type?: unknown; version?: unknown };
  if (type !== spec.type) {
    return fail(
      ContractsErrorCode.TypeMismatch,
      `${topic} carries "${spec.type}" events, got type ${JSON.stringify(type) ?? 'undefined'}`,
      topic,
    );
  }
  if (version !== spec.version) {
    return fail(
      ContractsErrorCode.UnknownVersion,
      `${topic} got ${spec.type} version ${JSON.stringify(version) ?? 'undefined'}, ` +
        `this build understands only version ${spec.version}: upgrade the consumer; dead-letter the message`,
      topic,
    );
  }

  // Most events pass: a check compiled from the class's decorators vouches for them
  // without class-transformer and class-validator's per-call work. Any it cannot vouch for
  // (a refusal, an unknown field) get the full check, and with it their exact issues.
  const valid = instanceIfValid(spec.cls, parsed as Record<string, unknown>);
  if (valid) return ok(valid);
  const validated = validatePlain(spec.cls, parsed, CONSUMED_EVENT_VALIDATION);
  if (!validated.ok) {
    const issues = validated.error;
    return err(
      new ContractsError(
        ContractsErrorCode.InvalidPayload,
        `invalid ${spec.type} on ${topic}: ${issues.map((i) => i.message).join('; ')}`,
        { topic, issues },
      ),
    );
  }
  return ok(validated.value);
}

function fail(
  code: ContractsErrorCode,
  message: string,
  topic: string,
): { ok: false; error: ContractsError } {
  return err(new ContractsError(code, message, { topic }));
}

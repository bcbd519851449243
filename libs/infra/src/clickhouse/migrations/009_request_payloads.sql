-- One row per RequestPayloadLogged event: what a client asked and was answered on a route
-- with payloadLogging on (the request body after redaction, the answer or a stream's
-- assembled answer, each cut at the route's maxBytes; never a header). Times in
-- milliseconds (occurred_ms is the end, started_ms the start); model_served, provider,
-- backend and error_code '' when absent. Read with FINAL by request id or by user
-- (libs/usage-sink: clickhouse-usage.analytics.ts). Partitioned by day, so the payload
-- retention (AI_GATEWAY_PAYLOAD_RETENTION_DAYS, 7 by default) and the analytics retention
-- drop it a day at a time, on every server version (18.16 has no table TTL).
CREATE TABLE IF NOT EXISTS request_payload_events (
    event_id String,
    occurred_at DateTime('UTC'),
    occurred_ms UInt64,
    started_ms UInt64,
    request_id String,
    user_id String,
    endpoint String,
    model_requested String,
    model_served String,
    provider String,
    backend String,
    stream UInt8,
    http_status UInt16,
    error_code String,
    latency_ms Float64,
    request_body String,
    request_truncated UInt8,
    request_bytes UInt64,
    response_body String,
    response_truncated UInt8,
    response_bytes UInt64
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMMDD(occurred_at)
ORDER BY (occurred_at, event_id);


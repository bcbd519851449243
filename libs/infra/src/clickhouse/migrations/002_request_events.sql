-- The other topics, one raw table each, deduplicated like usage_events. Absent optional
-- fields are empty strings (or 0 / -1 where noted) rather than Nullable columns.

-- RequestCompleted: one per admitted request, with its latency and outcome.
CREATE TABLE IF NOT EXISTS request_completed_events (
    event_id String,
    occurred_at DateTime('UTC'),
    request_id String,
    user_id String,
    endpoint String,
    status String,
    http_status UInt16,
    latency_ms Float64,
    -- -1 when no byte of the body was sent.
    ttfb_ms Float64,
    provider String,
    backend String,
    model_requested String,
    model_served String,
    tier String,
    stream UInt8,
    cached UInt8,
    attempts UInt32,
    error_code String
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (occurred_at, event_id);

CREATE TABLE IF NOT EXISTS request_accepted_events (
    event_id String,
    occurred_at DateTime('UTC'),
    request_id String,
    user_id String,
    endpoint String,
    model_requested String,
    tier String,
    stream UInt8,
    reservation_id String,
    reserved_tokens UInt64,
    estimated_input_tokens UInt64
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (occurred_at, event_id);

CREATE TABLE IF NOT EXISTS request_rejected_events (
    event_id String,
    occurred_at DateTime('UTC'),
    request_id String,
    user_id String,
    endpoint String,
    reason String,
    http_status UInt16,
    model_requested String,
    tier String,
    limit_kind String
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (occurred_at, event_id);

CREATE TABLE IF NOT EXISTS fallback_events (
    event_id String,
    occurred_at DateTime('UTC'),
    request_id String,
    user_id String,
    model_requested String,
    from_backend String,
    from_provider String,
    from_model String,
    to_backend String,
    to_provider String,
    to_model String,
    reason String,
    attempt UInt32,
    -- 0 when no upstream status triggered it.
    upstream_status UInt16
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (occurred_at, event_id);

-- occurred_ms orders two states of one limit within the same second.
CREATE TABLE IF NOT EXISTS budget_state_events (
    event_id String,
    occurred_at DateTime('UTC'),
    occurred_ms UInt64,
    request_id String,
    budget_key String,
    limit_kind String,
    window_id String,
    state String,
    remaining Float64,
    limit_value Float64,
    unit String,
    reset_at DateTime('UTC')
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (occurred_at, event_id);

CREATE TABLE IF NOT EXISTS alert_events (
    event_id String,
    occurred_at DateTime('UTC'),
    request_id String,
    budget_key String,
    limit_kind String,
    window_id String,
    threshold Float64,
    used Float64,
    limit_value Float64,
    unit String,
    tier String,
    message String
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (occurred_at, event_id);

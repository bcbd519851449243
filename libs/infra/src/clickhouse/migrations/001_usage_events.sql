-- One row per TokenUsageRecorded event. The sink writes only event ids the table does
-- not hold yet (see libs/usage-sink), so the rollup views below never see a duplicate;
-- ReplacingMergeTree (keyed by time and event id) is the second line of defence for raw
-- queries, which read it with FINAL.
CREATE TABLE IF NOT EXISTS usage_events (
    event_id String,
    occurred_at DateTime('UTC'),
    user_id String,
    request_id String,
    model_requested String,
    model_served String,
    provider String,
    backend String,
    tier String,
    usage_source String,
    reservation_id String,
    input_tokens UInt64,
    output_tokens UInt64,
    cached_input_tokens UInt64,
    cost_dollars Float64,
    weighted_token_cost Float64,
    cache_hit UInt8
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (occurred_at, event_id);

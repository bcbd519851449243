-- One row per TokenUsageRecorded event. ReplacingMergeTree folds a redelivered event
-- (same ordering key) into one row at merge time; queries that must not double count
-- before a merge use FINAL or the event_id.
CREATE TABLE IF NOT EXISTS usage_events (
    event_id String,
    occurred_at DateTime,
    user_id String,
    request_id String,
    model_requested String,
    model_served String,
    provider String,
    input_tokens UInt64,
    output_tokens UInt64,
    cached_input_tokens UInt64,
    cost_dollars Float64,
    weighted_token_cost Float64,
    cache_hit UInt8
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (user_id, occurred_at, event_id);

-- Daily totals per user and model, summed by SummingMergeTree as parts merge.
CREATE TABLE IF NOT EXISTS usage_daily (
    day Date,
    user_id String,
    model_served String,
    requests UInt64,
    input_tokens UInt64,
    output_tokens UInt64,
    cost_dollars Float64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (user_id, day, model_served);

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_daily_mv TO usage_daily AS
SELECT
    toDate(occurred_at) AS day,
    user_id,
    model_served,
    count() AS requests,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cost_dollars) AS cost_dollars
FROM usage_events
GROUP BY day, user_id, model_served;

-- The model operation of each usage event (TokenUsageRecorded's operation: chat,
-- embeddings, transcriptions, speech, images, ...). Rows stored before, and events of
-- builds that name none, read ''. The column comes last, as in the rows the sink writes
-- (libs/usage-sink: event-rows.ts).
ALTER TABLE usage_events ADD COLUMN operation String DEFAULT '';

-- Usage per hour and per day by the keys of usage_hourly / usage_daily and the operation,
-- with every total (cache writes too: a new table may have every column from the start).
-- Rollups of their own, as 005's, because on 18.16 replacing the views of 003 would lose
-- the inserts made meanwhile. Only rows naming an operation reach these: usage by
-- operation '' is what usage_* (with cache_writes_*) hold beyond them, so the history
-- before this migration still adds up (libs/usage-sink: clickhouse-usage.analytics.ts).
CREATE TABLE IF NOT EXISTS usage_operations_hourly (
    bucket DateTime('UTC'),
    user_id String,
    model_requested String,
    model_served String,
    provider String,
    tier String,
    operation String,
    requests UInt64,
    cache_hits UInt64,
    tokens_in UInt64,
    tokens_out UInt64,
    tokens_cached_in UInt64,
    tokens_cache_write_in UInt64,
    cost Float64,
    weighted_cost Float64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (bucket, operation, user_id, model_served, provider, tier, model_requested);

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_operations_hourly_mv TO usage_operations_hourly AS
SELECT
    toStartOfHour(occurred_at) AS bucket,
    user_id, model_requested, model_served, provider, tier, operation,
    count() AS requests,
    sum(cache_hit) AS cache_hits,
    sum(input_tokens) AS tokens_in,
    sum(output_tokens) AS tokens_out,
    sum(cached_input_tokens) AS tokens_cached_in,
    sum(cache_write_input_tokens) AS tokens_cache_write_in,
    sum(cost_dollars) AS cost,
    sum(weighted_token_cost) AS weighted_cost
FROM usage_events
WHERE operation != ''
GROUP BY bucket, user_id, model_requested, model_served, provider, tier, operation;

CREATE TABLE IF NOT EXISTS usage_operations_daily (
    bucket DateTime('UTC'),
    user_id String,
    model_requested String,
    model_served String,
    provider String,
    tier String,
    operation String,
    requests UInt64,
    cache_hits UInt64,
    tokens_in UInt64,
    tokens_out UInt64,
    tokens_cached_in UInt64,
    tokens_cache_write_in UInt64,
    cost Float64,
    weighted_cost Float64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (bucket, operation, user_id, model_served, provider, tier, model_requested);

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_operations_daily_mv TO usage_operations_daily AS
SELECT
    toStartOfDay(occurred_at) AS bucket,
    user_id, model_requested, model_served, provider, tier, operation,
    count() AS requests,
    sum(cache_hit) AS cache_hits,
    sum(input_tokens) AS tokens_in,
    sum(output_tokens) AS tokens_out,
    sum(cached_input_tokens) AS tokens_cached_in,
    sum(cache_write_input_tokens) AS tokens_cache_write_in,
    sum(cost_dollars) AS cost,
    sum(weighted_token_cost) AS weighted_cost
FROM usage_events
WHERE operation != ''
GROUP BY bucket, user_id, model_requested, model_served, provider, tier, operation;

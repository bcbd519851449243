-- Prompt-cache writes per hour and per day, by the keys of usage_hourly / usage_daily.
-- Rollups of their own rather than a column of those: on 18.16 a view must fill every
-- column of the table it writes to, so a new column there would mean replacing the views
-- of 003, and inserts made while one is gone would reach no rollup. Only rows with writes
-- reach these; the analytics queries add them to the usage rollups' rows (UNION ALL).
CREATE TABLE IF NOT EXISTS cache_writes_hourly (
    bucket DateTime('UTC'),
    user_id String,
    model_requested String,
    model_served String,
    provider String,
    tier String,
    tokens_cache_write_in UInt64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (bucket, user_id, model_served, provider, tier, model_requested);

CREATE MATERIALIZED VIEW IF NOT EXISTS cache_writes_hourly_mv TO cache_writes_hourly AS
SELECT
    toStartOfHour(occurred_at) AS bucket,
    user_id, model_requested, model_served, provider, tier,
    sum(cache_write_input_tokens) AS tokens_cache_write_in
FROM usage_events
WHERE cache_write_input_tokens > 0
GROUP BY bucket, user_id, model_requested, model_served, provider, tier;

CREATE TABLE IF NOT EXISTS cache_writes_daily (
    bucket DateTime('UTC'),
    user_id String,
    model_requested String,
    model_served String,
    provider String,
    tier String,
    tokens_cache_write_in UInt64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (bucket, user_id, model_served, provider, tier, model_requested);

CREATE MATERIALIZED VIEW IF NOT EXISTS cache_writes_daily_mv TO cache_writes_daily AS
SELECT
    toStartOfDay(occurred_at) AS bucket,
    user_id, model_requested, model_served, provider, tier,
    sum(cache_write_input_tokens) AS tokens_cache_write_in
FROM usage_events
WHERE cache_write_input_tokens > 0
GROUP BY bucket, user_id, model_requested, model_served, provider, tier;

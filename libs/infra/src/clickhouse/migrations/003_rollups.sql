-- Rollups kept current by materialized views as rows arrive, so dashboard queries read
-- only these. Why they never count an event twice: a view sees exactly the rows of each
-- INSERT into its source, and the sink inserts only event ids the source does not hold
-- yet (libs/usage-sink: clickhouse-usage.writer.ts). Queries always re-aggregate with
-- sum()/-Merge GROUP BY, never relying on background merges having happened.
-- Rollup columns are named apart from the source's: 18.16 resolves an alias equal to a
-- source column inside other aggregates of the same SELECT.

-- Tokens and dollars per user, model, provider and tier: by hour and by day (UTC).
CREATE TABLE IF NOT EXISTS usage_hourly (
    bucket DateTime('UTC'),
    user_id String,
    model_requested String,
    model_served String,
    provider String,
    tier String,
    requests UInt64,
    cache_hits UInt64,
    tokens_in UInt64,
    tokens_out UInt64,
    tokens_cached_in UInt64,
    cost Float64,
    weighted_cost Float64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (bucket, user_id, model_served, provider, tier, model_requested);

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_hourly_mv TO usage_hourly AS
SELECT
    toStartOfHour(occurred_at) AS bucket,
    user_id, model_requested, model_served, provider, tier,
    count() AS requests,
    sum(cache_hit) AS cache_hits,
    sum(input_tokens) AS tokens_in,
    sum(output_tokens) AS tokens_out,
    sum(cached_input_tokens) AS tokens_cached_in,
    sum(cost_dollars) AS cost,
    sum(weighted_token_cost) AS weighted_cost
FROM usage_events
GROUP BY bucket, user_id, model_requested, model_served, provider, tier;

CREATE TABLE IF NOT EXISTS usage_daily (
    bucket DateTime('UTC'),
    user_id String,
    model_requested String,
    model_served String,
    provider String,
    tier String,
    requests UInt64,
    cache_hits UInt64,
    tokens_in UInt64,
    tokens_out UInt64,
    tokens_cached_in UInt64,
    cost Float64,
    weighted_cost Float64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (bucket, user_id, model_served, provider, tier, model_requested);

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_daily_mv TO usage_daily AS
SELECT
    toStartOfDay(occurred_at) AS bucket,
    user_id, model_requested, model_served, provider, tier,
    count() AS requests,
    sum(cache_hit) AS cache_hits,
    sum(input_tokens) AS tokens_in,
    sum(output_tokens) AS tokens_out,
    sum(cached_input_tokens) AS tokens_cached_in,
    sum(cost_dollars) AS cost,
    sum(weighted_token_cost) AS weighted_cost
FROM usage_events
GROUP BY bucket, user_id, model_requested, model_served, provider, tier;

-- Request outcomes per hour: counts for fallback, cache-hit and error rates.
CREATE TABLE IF NOT EXISTS requests_hourly (
    bucket DateTime('UTC'),
    user_id String,
    model_requested String,
    model_served String,
    provider String,
    tier String,
    requests UInt64,
    fallback_requests UInt64,
    cached_requests UInt64,
    failed_requests UInt64,
    latency_total_ms Float64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (bucket, user_id, model_served, provider, tier, model_requested);

CREATE MATERIALIZED VIEW IF NOT EXISTS requests_hourly_mv TO requests_hourly AS
SELECT
    toStartOfHour(occurred_at) AS bucket,
    user_id, model_requested, model_served, provider, tier,
    count() AS requests,
    countIf(attempts > 1) AS fallback_requests,
    countIf(cached = 1) AS cached_requests,
    countIf(status != 'success') AS failed_requests,
    sum(latency_ms) AS latency_total_ms
FROM request_completed_events
GROUP BY bucket, user_id, model_requested, model_served, provider, tier;

-- Latency quantile states (reservoir sampling: exact up to 8192 samples per merged group,
-- a uniform sample beyond), merged at query time with quantilesMerge.
CREATE TABLE IF NOT EXISTS latency_hourly (
    bucket DateTime('UTC'),
    user_id String,
    model_served String,
    provider String,
    tier String,
    requests AggregateFunction(count),
    latency_avg AggregateFunction(avg, Float64),
    latency_q AggregateFunction(quantiles(0.5, 0.9, 0.95, 0.99), Float64)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (bucket, user_id, model_served, provider, tier);

CREATE MATERIALIZED VIEW IF NOT EXISTS latency_hourly_mv TO latency_hourly AS
SELECT
    toStartOfHour(occurred_at) AS bucket,
    user_id, model_served, provider, tier,
    countState() AS requests,
    avgState(latency_ms) AS latency_avg,
    quantilesState(0.5, 0.9, 0.95, 0.99)(latency_ms) AS latency_q
FROM request_completed_events
GROUP BY bucket, user_id, model_served, provider, tier;

CREATE TABLE IF NOT EXISTS fallbacks_hourly (
    bucket DateTime('UTC'),
    user_id String,
    model_requested String,
    from_provider String,
    from_model String,
    to_provider String,
    to_model String,
    reason String,
    fallbacks UInt64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (bucket, user_id, reason, from_provider, from_model, to_provider, to_model, model_requested);

CREATE MATERIALIZED VIEW IF NOT EXISTS fallbacks_hourly_mv TO fallbacks_hourly AS
SELECT
    toStartOfHour(occurred_at) AS bucket,
    user_id, model_requested, from_provider, from_model, to_provider, to_model, reason,
    count() AS fallbacks
FROM fallback_events
GROUP BY bucket, user_id, model_requested, from_provider, from_model, to_provider, to_model, reason;

CREATE TABLE IF NOT EXISTS rejections_hourly (
    bucket DateTime('UTC'),
    user_id String,
    model_requested String,
    tier String,
    reason String,
    rejections UInt64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (bucket, user_id, reason, tier, model_requested);

CREATE MATERIALIZED VIEW IF NOT EXISTS rejections_hourly_mv TO rejections_hourly AS
SELECT
    toStartOfHour(occurred_at) AS bucket,
    user_id, model_requested, tier, reason,
    count() AS rejections
FROM request_rejected_events
GROUP BY bucket, user_id, model_requested, tier, reason;

-- The latest state of each limit of each budget key, for the budget panel: replaced by
-- the newest (occurred_ms) at merge time, read with argMax at query time.
CREATE TABLE IF NOT EXISTS budget_state_latest (
    budget_key String,
    limit_kind String,
    version_ms UInt64,
    window_id String,
    state String,
    remaining Float64,
    limit_value Float64,
    unit String,
    reset_at DateTime('UTC')
) ENGINE = ReplacingMergeTree(version_ms)
ORDER BY (budget_key, limit_kind);

CREATE MATERIALIZED VIEW IF NOT EXISTS budget_state_latest_mv TO budget_state_latest AS
SELECT
    budget_key, limit_kind, occurred_ms AS version_ms, window_id, state, remaining,
    limit_value, unit, reset_at
FROM budget_state_events;

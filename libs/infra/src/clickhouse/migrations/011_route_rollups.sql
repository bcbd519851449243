-- Rollups by the backend's route (migration 010), for the analytics API's groupBy=route and
-- route filter. Tables of their own, as 005's and 006's, because on 18.16 replacing the
-- views of 003 would lose the inserts made meanwhile. route leads each key after the
-- bucket, so a route filter reads that route's granules only.
-- Usage and completed requests reach these only when they name a route: what usage_*
-- (with cache_writes_*) and requests_hourly hold beyond them is the route '' (rows stored
-- before this migration, and events of builds naming none), so history still adds up
-- (libs/usage-sink: clickhouse-usage.analytics.ts).
CREATE TABLE IF NOT EXISTS usage_routes_hourly (
    bucket DateTime('UTC'),
    route String,
    operation String,
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
    tokens_cache_write_in UInt64,
    cost Float64,
    weighted_cost Float64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (bucket, route, operation, user_id, model_served, provider, tier, model_requested);

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_routes_hourly_mv TO usage_routes_hourly AS
SELECT
    toStartOfHour(occurred_at) AS bucket,
    route, operation, user_id, model_requested, model_served, provider, tier,
    count() AS requests,
    sum(cache_hit) AS cache_hits,
    sum(input_tokens) AS tokens_in,
    sum(output_tokens) AS tokens_out,
    sum(cached_input_tokens) AS tokens_cached_in,
    sum(cache_write_input_tokens) AS tokens_cache_write_in,
    sum(cost_dollars) AS cost,
    sum(weighted_token_cost) AS weighted_cost
FROM usage_events
WHERE route != ''
GROUP BY bucket, route, operation, user_id, model_requested, model_served, provider, tier;

CREATE TABLE IF NOT EXISTS usage_routes_daily (
    bucket DateTime('UTC'),
    route String,
    operation String,
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
    tokens_cache_write_in UInt64,
    cost Float64,
    weighted_cost Float64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (bucket, route, operation, user_id, model_served, provider, tier, model_requested);

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_routes_daily_mv TO usage_routes_daily AS
SELECT
    toStartOfDay(occurred_at) AS bucket,
    route, operation, user_id, model_requested, model_served, provider, tier,
    count() AS requests,
    sum(cache_hit) AS cache_hits,
    sum(input_tokens) AS tokens_in,
    sum(output_tokens) AS tokens_out,
    sum(cached_input_tokens) AS tokens_cached_in,
    sum(cache_write_input_tokens) AS tokens_cache_write_in,
    sum(cost_dollars) AS cost,
    sum(weighted_token_cost) AS weighted_cost
FROM usage_events
WHERE route != ''
GROUP BY bucket, route, operation, user_id, model_requested, model_served, provider, tier;

CREATE TABLE IF NOT EXISTS requests_routes_hourly (
    bucket DateTime('UTC'),
    route String,
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
ORDER BY (bucket, route, user_id, model_served, provider, tier, model_requested);

CREATE MATERIALIZED VIEW IF NOT EXISTS requests_routes_hourly_mv TO requests_routes_hourly AS
SELECT
    toStartOfHour(occurred_at) AS bucket,
    route, user_id, model_requested, model_served, provider, tier,
    count() AS requests,
    countIf(attempts > 1) AS fallback_requests,
    countIf(cached = 1) AS cached_requests,
    countIf(status != 'success') AS failed_requests,
    sum(latency_ms) AS latency_total_ms
FROM request_completed_events
WHERE route != ''
GROUP BY bucket, route, user_id, model_requested, model_served, provider, tier;

-- Latency quantile states cannot be taken apart, so this one takes every completed
-- request from now on, route '' too: latency by route covers requests stored since this
-- migration.
CREATE TABLE IF NOT EXISTS latency_routes_hourly (
    bucket DateTime('UTC'),
    route String,
    user_id String,
    model_served String,
    provider String,
    tier String,
    requests AggregateFunction(count),
    latency_avg AggregateFunction(avg, Float64),
    latency_q AggregateFunction(quantiles(0.5, 0.9, 0.95, 0.99), Float64)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (bucket, route, user_id, model_served, provider, tier);

CREATE MATERIALIZED VIEW IF NOT EXISTS latency_routes_hourly_mv TO latency_routes_hourly AS
SELECT
    toStartOfHour(occurred_at) AS bucket,
    route, user_id, model_served, provider, tier,
    countState() AS requests,
    avgState(latency_ms) AS latency_avg,
    quantilesState(0.5, 0.9, 0.95, 0.99)(latency_ms) AS latency_q
FROM request_completed_events
GROUP BY bucket, route, user_id, model_served, provider, tier;

-- Web searches a model ran as a server tool (TokenUsageRecorded's webSearchRequests:
-- Anthropic's usage.server_tool_use.web_search_requests), billed per search in
-- cost_dollars. Rows stored before read 0 (no build before counted any). The column comes
-- last, as in the rows the sink writes (libs/usage-sink: event-rows.ts).
ALTER TABLE usage_events ADD COLUMN web_search_requests UInt64 DEFAULT 0;

-- Web searches per hour and per day, by every key a usage query groups or filters by
-- (route and operation too: a new table may have every key from the start). Rollups of
-- their own, as 005's, because on 18.16 replacing the views of 003 would lose the inserts
-- made meanwhile. Only rows with searches reach these; the analytics queries add their
-- counts to the usage rollups' groups (libs/usage-sink: clickhouse-usage.analytics.ts).
CREATE TABLE IF NOT EXISTS web_searches_hourly (
    bucket DateTime('UTC'),
    route String,
    operation String,
    user_id String,
    model_requested String,
    model_served String,
    provider String,
    tier String,
    web_searches UInt64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (bucket, route, operation, user_id, model_served, provider, tier, model_requested);

CREATE MATERIALIZED VIEW IF NOT EXISTS web_searches_hourly_mv TO web_searches_hourly AS
SELECT
    toStartOfHour(occurred_at) AS bucket,
    route, operation, user_id, model_requested, model_served, provider, tier,
    sum(web_search_requests) AS web_searches
FROM usage_events
WHERE web_search_requests > 0
GROUP BY bucket, route, operation, user_id, model_requested, model_served, provider, tier;

CREATE TABLE IF NOT EXISTS web_searches_daily (
    bucket DateTime('UTC'),
    route String,
    operation String,
    user_id String,
    model_requested String,
    model_served String,
    provider String,
    tier String,
    web_searches UInt64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (bucket, route, operation, user_id, model_served, provider, tier, model_requested);

CREATE MATERIALIZED VIEW IF NOT EXISTS web_searches_daily_mv TO web_searches_daily AS
SELECT
    toStartOfDay(occurred_at) AS bucket,
    route, operation, user_id, model_requested, model_served, provider, tier,
    sum(web_search_requests) AS web_searches
FROM usage_events
WHERE web_search_requests > 0
GROUP BY bucket, route, operation, user_id, model_requested, model_served, provider, tier;

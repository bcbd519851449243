-- One row per BudgetAdjusted event: an operator's reset or credit of a user's budget
-- (POST /admin/budgets/{user}/reset|credit). limit_kind '' is every limit of the user (a
-- reset naming none); amount is 0 for a reset, which has none; reason '' when none was
-- given. occurred_ms orders adjustments made within one second. Few rows and no rollup:
-- the analytics API reads them with FINAL (libs/usage-sink: clickhouse-usage.analytics.ts).
CREATE TABLE IF NOT EXISTS budget_adjustment_events (
    event_id String,
    occurred_at DateTime('UTC'),
    occurred_ms UInt64,
    user_key String,
    action String,
    limit_kind String,
    amount Float64,
    reason String
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (occurred_at, event_id);

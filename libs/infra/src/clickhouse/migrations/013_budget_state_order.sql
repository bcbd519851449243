-- The newest state of each limit of each budget key, for the budget panel, ordered by the
-- time it was reported and then by its event id. 003's budget_state_latest orders by the
-- millisecond alone: two states of one limit in the same millisecond (a settlement and the
-- next admission) read as either, the first part read before a merge and the last row
-- inserted after one. Event ids are UUIDv7, ascending within the budget service that made
-- them, so the greater id is the later state, as the embedded store orders them
-- (libs/usage-sink: sqlite-usage.store.ts). argMax states merge the same whatever the order
-- of inserts and merges, and a row inserted twice changes nothing.
-- budget_state_latest and its view stay, for the analytics of an earlier release still
-- reading them during an upgrade.
CREATE TABLE IF NOT EXISTS budget_state_newest (
    budget_key String,
    limit_kind String,
    -- (window_id, state, remaining, limit_value, unit, reset_at, occurred_ms) of the newest
    -- by (occurred_ms, event_id).
    newest AggregateFunction(
        argMax,
        Tuple(String, String, Float64, Float64, String, DateTime('UTC'), UInt64),
        Tuple(UInt64, String)
    )
) ENGINE = AggregatingMergeTree()
ORDER BY (budget_key, limit_kind);

CREATE MATERIALIZED VIEW IF NOT EXISTS budget_state_newest_mv TO budget_state_newest AS
SELECT
    budget_key, limit_kind,
    argMaxState(
        (window_id, state, remaining, limit_value, unit, reset_at, occurred_ms),
        (occurred_ms, event_id)
    ) AS newest
FROM budget_state_events
GROUP BY budget_key, limit_kind;

-- The states stored before, after the view exists so that none written meanwhile is missed
-- (one taken twice is the same state). 003's table holds them all, those whose raw rows
-- retention dropped too, without their event ids: '' sorts before every id, and the raw
-- rows still held bring theirs.
INSERT INTO budget_state_newest
SELECT
    budget_key, limit_kind,
    argMaxState(
        (window_id, state, remaining, limit_value, unit, reset_at, version_ms),
        (version_ms, '')
    ) AS newest
FROM budget_state_latest
GROUP BY budget_key, limit_kind;

INSERT INTO budget_state_newest
SELECT
    budget_key, limit_kind,
    argMaxState(
        (window_id, state, remaining, limit_value, unit, reset_at, occurred_ms),
        (occurred_ms, event_id)
    ) AS newest
FROM budget_state_events
GROUP BY budget_key, limit_kind;

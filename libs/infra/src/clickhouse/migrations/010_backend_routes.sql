-- The route of the backend each usage and completed request names (TokenUsageRecorded's
-- and RequestCompleted's route): backend names are unique only within a route, so a
-- backend is told apart by (route, backend). Rows stored before, and events of builds that
-- name none, read ''. The columns come last, as in the rows the sink writes
-- (libs/usage-sink: event-rows.ts). The rollups of 003 do not key by it, as 004 explains.
ALTER TABLE usage_events ADD COLUMN route String DEFAULT '';

ALTER TABLE request_completed_events ADD COLUMN route String DEFAULT '';

-- Prompt-cache writes: the part of input_tokens the provider wrote to its prompt cache
-- (TokenUsageRecorded's cacheWriteInputTokens). Rows stored before read 0. The column
-- comes last, as in the rows the sink writes (libs/usage-sink: event-rows.ts).
-- The rollups of 003 do not sum it: on 18.16 a view must fill every column of the table
-- it writes to, so a rollup column would mean replacing both views, and inserts made
-- while one is gone would reach no rollup.
ALTER TABLE usage_events ADD COLUMN cache_write_input_tokens UInt64 DEFAULT 0;

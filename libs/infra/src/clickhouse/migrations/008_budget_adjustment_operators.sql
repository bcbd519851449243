-- Who made each budget adjustment: BudgetAdjusted's operator, as the operator named
-- themselves on the admin route. Rows stored before, and events that name none, read ''.
-- A column of its own migration because 007 has shipped. It comes last, as in the rows
-- the sink writes (libs/usage-sink: event-rows.ts).
ALTER TABLE budget_adjustment_events ADD COLUMN operator String DEFAULT '';

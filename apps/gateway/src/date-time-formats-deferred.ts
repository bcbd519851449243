// Imported first by main.ts, so the stand-in is in place while the rest of the module
// graph (NestJS's loggers among it) loads.
import { deferDateTimeFormats } from './lazy-date-time-formats';

export const restoreDateTimeFormats = deferDateTimeFormats();

// First: V8's old-generation cap, before loading the modules runs the first full GCs;
// and NestJS's loggers build their date formats while the imports below load.
import '@aigw/runtime/heap-growth-at-start';
import { restoreDateTimeFormats } from './date-time-formats-deferred';
import 'reflect-metadata';
import { exitWithStartupError } from '@aigw/runtime';
import { bootstrapGateway } from './gateway-bootstrap';

restoreDateTimeFormats();
bootstrapGateway(process.env).catch(exitWithStartupError);

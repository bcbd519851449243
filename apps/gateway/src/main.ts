// First: NestJS's loggers build their date formats while the imports below load.
import { restoreDateTimeFormats } from './date-time-formats-deferred';
import 'reflect-metadata';
import { exitWithStartupError } from '@aigw/runtime';
import { bootstrapGateway } from './gateway-bootstrap';

restoreDateTimeFormats();
bootstrapGateway(process.env).catch(exitWithStartupError);

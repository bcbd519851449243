import 'reflect-metadata';
import { bootstrapGateway } from './gateway-bootstrap';
import { exitWithStartupError } from './startup-errors';

bootstrapGateway(process.env).catch(exitWithStartupError);

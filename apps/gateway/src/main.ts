import 'reflect-metadata';
import { exitWithStartupError } from '@aigw/runtime';
import { bootstrapGateway } from './gateway-bootstrap';

bootstrapGateway(process.env).catch(exitWithStartupError);

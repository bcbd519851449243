import 'reflect-metadata';
import { exitWithStartupError } from '@aigw/runtime';
import { bootstrapRouter } from './router-bootstrap';

bootstrapRouter(process.env).catch(exitWithStartupError);

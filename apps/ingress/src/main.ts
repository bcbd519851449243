import 'reflect-metadata';
import { exitWithStartupError } from '@aigw/runtime';
import { bootstrapIngress } from './ingress-bootstrap';

bootstrapIngress(process.env).catch(exitWithStartupError);

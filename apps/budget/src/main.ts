// First: V8's old-generation cap, before loading the modules runs the first full GCs.
import '@aigw/runtime/heap-growth-at-start';
import 'reflect-metadata';
import { exitWithStartupError } from '@aigw/runtime';
import { bootstrapBudget } from './budget-bootstrap';

bootstrapBudget(process.env).catch(exitWithStartupError);

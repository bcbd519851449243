import 'reflect-metadata';
import { exitWithStartupError } from '@aigw/runtime';
import { bootstrapBudget } from './budget-bootstrap';

bootstrapBudget(process.env).catch(exitWithStartupError);

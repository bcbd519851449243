import 'reflect-metadata';
import { exitWithStartupError } from '@aigw/runtime';
import { bootstrapProviderAdapter } from './provider-adapter-bootstrap';

bootstrapProviderAdapter(process.env).catch(exitWithStartupError);

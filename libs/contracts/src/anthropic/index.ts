export * from './messages.dto';

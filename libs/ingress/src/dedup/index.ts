export * from './domain/flight';
export * from './domain/flight-coordinator';
export * from './redis-flight-coordinator';

export * from './real-services/real-services';
export { ServiceStartError, TEST_LABEL, OWNER_LABEL } from './real-services/service-container';
export { serviceImage, OFFICIAL_IMAGES, type ServiceName } from './real-services/service-images';
export { freeLoopbackPort } from './real-services/free-port';
export * from './app-env';
export { startRestartableKafka, type RestartableKafka } from './real-services/restartable-kafka';
export { metricSum } from './metrics-text';
export { numberedUsageEvent } from './usage-events';
export { openServerResponse, RecordingResponse, type OpenServerResponse } from './server-response';

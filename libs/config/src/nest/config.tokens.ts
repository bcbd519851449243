/** Injection token for the live GatewayConfigStore (`store.current` is the config in force). */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
/** Injection token for the ProcessSettings read from the environment. */
export const PROCESS_SETTINGS = Symbol('PROCESS_SETTINGS');

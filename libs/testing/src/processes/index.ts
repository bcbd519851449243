export * from './gateway-process';
export * from './split-deployment';
export * from './budget-rebuild-cli';
export * from './python-sdks/python-sdk-venv';
export * from './python-sdks/run-python';

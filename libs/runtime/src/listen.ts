import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidSettingError } from '@aigw/config';

/** Thrown for a failure at start that the operator can fix; main prints it on one line. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** What `read` returns; a setting it finds invalid stops the start (a StartupError). */
export function startupSetting<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw error instanceof InvalidSettingError ? new StartupError(error.message) : error;
  }
}

/** Listens, turning "address in use" and friends into a one-line cause. Resolves the port. */
export function listenOrExplain(
  server: Server,
  port: number,
  host: string,
  settingName: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') {
        reject(
          new StartupError(`port ${port} is already in use (set ${settingName} to another port)`),
        );
      } else if (error.code === 'EACCES') {
        reject(new StartupError(`no permission to listen on port ${port} (${settingName})`));
      } else {
        reject(
          new StartupError(
            `cannot listen on ${host}:${port} (${settingName}): ${error.code ?? error.message}`,
          ),
        );
      }
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

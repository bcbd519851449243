import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOrExplain } from './listen';

/** What the admin listener reports; each service supplies its own. */
export interface AdminSources {
  /** Prometheus text exposition of this process's metrics. */
  metrics(): Promise<string>;
  metricsContentType: string;
  /** Ready to take traffic: configuration loaded, dependencies reachable. */
  ready(): Promise<{ ready: boolean; checks: Record<string, string> }>;
}

/**
 * The operator's port, apart from client traffic: liveness, readiness and metrics
 * (`/stats/prometheus` is the path the spec's ServiceMonitor scrapes).
 */
export class AdminServer {
  private readonly server: Server;

  constructor(private readonly sources: AdminSources) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch(() => {
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
    });
  }

  listen(port: number, host = '0.0.0.0'): Promise<number> {
    return listenOrExplain(this.server, port, host, 'ADMIN_PORT');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    switch (path) {
      case '/healthz':
        return json(response, 200, { status: 'ok' });
      case '/readyz': {
        const readiness = await this.sources.ready();
        return json(response, readiness.ready ? 200 : 503, {
          status: readiness.ready ? 'ready' : 'not ready',
          checks: readiness.checks,
        });
      }
      case '/metrics':
      case '/stats/prometheus': {
        const body = await this.sources.metrics();
        response.writeHead(200, { 'content-type': this.sources.metricsContentType });
        response.end(body);
        return;
      }
      default:
        return json(response, 404, { error: 'not found' });
    }
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

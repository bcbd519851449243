import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtVerify } from 'jose';
import { FakeAnthropicUpstream } from './fake-anthropic-upstream';
import { FakeGeminiUpstream } from './fake-gemini-upstream';
import { type AnswerMode, type ProviderFakeCall, sendJson } from './fake-provider-server';

const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const METADATA_TOKEN_PATH = '/computeMetadata/v1/instance/service-accounts/default/token';
// projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}
const VERTEX_PATH =
  /^\/v1\/projects\/[^/]+\/locations\/[^/]+\/publishers\/([^/]+)\/models\/[^/:]+:(\w+)$/;

/** A service-account key file as the Cloud console downloads it, with a fresh RSA key. */
export interface FakeServiceAccount {
  /** The key file's JSON, what the backend's apiKeyRef secret holds. */
  readonly json: string;
  readonly clientEmail: string;
  readonly publicKey: KeyObject;
}

export function fakeServiceAccount(
  tokenUri: string,
  clientEmail = 'gateway@proj-1.iam.gserviceaccount.com',
): FakeServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const json = JSON.stringify({
    type: 'service_account',
    project_id: 'proj-1',
    private_key_id: 'key-1',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: clientEmail,
    client_id: '1234567890',
    token_uri: tokenUri,
  });
  return { json, clientEmail, publicKey };
}

/**
 * Google's OAuth2 token endpoint and the GCE metadata server's token path: a JWT-bearer
 * exchange is answered when the assertion is signed by `trust`ed keys with the
 * cloud-platform scope and this endpoint as audience; the metadata path wants
 * Metadata-Flavor: Google. Every token it mints is remembered, so the Vertex fakes can
 * accept exactly those.
 */
export class FakeGoogleOAuth {
  readonly issued = new Set<string>();
  /** Requests per path, as received (the token exchange and the metadata server). */
  exchanges = 0;
  metadataRequests = 0;
  /** The `scopes` query parameter of the last metadata token request (undefined when none). */
  lastMetadataScopes: string | undefined;
  /** Lifetime of minted tokens, in seconds. */
  expiresIn = 3600;
  /** The status the next token requests get instead of a token (a refused exchange). */
  failWith: number | undefined;
  /** How long each answer waits, so concurrent requests overlap. */
  delayMs = 0;
  private readonly trusted = new Map<string, KeyObject>();
  private readonly server: Server;
  private port = 0;

  constructor() {
    this.server = createServer((request, response) => void this.handle(request, response));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** host:port, what GCE_METADATA_HOST names. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get tokenUri(): string {
    return `http://${this.host}/token`;
  }

  /** Accepts assertions from this service account. */
  trust(account: FakeServiceAccount): this {
    this.trusted.set(account.clientEmail, account.publicKey);
    return this;
  }

  /** Whether `authorization` carries a token this endpoint minted. */
  authorizes(authorization: string | undefined): boolean {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    return token !== undefined && this.issued.has(token);
  }

  reset(): void {
    this.issued.clear();
    this.exchanges = 0;
    this.metadataRequests = 0;
    this.lastMetadataScopes = undefined;
    this.expiresIn = 3600;
    this.failWith = undefined;
    this.delayMs = 0;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url ?? '/', 'http://fake');
    const path = url.pathname;
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (request.method === 'POST' && path === '/token') {
      this.exchanges++;
      return this.exchange(new URLSearchParams(Buffer.concat(chunks).toString('utf8')), response);
    }
    if (request.method === 'GET' && path === METADATA_TOKEN_PATH) {
      this.metadataRequests++;
      this.lastMetadataScopes = url.searchParams.get('scopes') ?? undefined;
      if (request.headers['metadata-flavor'] !== 'Google')
        return reply(response, 403, 'missing Metadata-Flavor');
      return this.mint(response);
    }
    return reply(response, 404, { error: 'not_found' });
  }

  private async exchange(form: URLSearchParams, response: ServerResponse): Promise<void> {
    if (form.get('grant_type') !== JWT_BEARER_GRANT) {
      return reply(response, 400, { error: 'unsupported_grant_type' });
    }
    const assertion = form.get('assertion') ?? '';
    const issuer = decodeIssuer(assertion);
    const key = issuer === undefined ? undefined : this.trusted.get(issuer);
    try {
      if (!key) throw new Error('unknown issuer');
      const { payload, protectedHeader } = await jwtVerify(assertion, key, {
        algorithms: ['RS256'],
        audience: this.tokenUri,
        issuer,
      });
      if (payload.scope !== CLOUD_PLATFORM_SCOPE || protectedHeader.kid !== 'key-1') {
        throw new Error('wrong scope or kid');
      }
    } catch {
      return reply(response, 400, {
        error: 'invalid_grant',
        error_description: 'Invalid JWT Signature.',
      });
    }
    return this.mint(response);
  }

  private mint(response: ServerResponse): void {
    if (this.failWith !== undefined) {
      return reply(response, this.failWith, {
        error: 'invalid_grant',
        error_description: 'refused',
      });
    }
    const token = `ya29.fake-${this.issued.size + 1}-${Math.random().toString(36).slice(2)}`;
    this.issued.add(token);
    return reply(response, 200, {
      access_token: token,
      expires_in: this.expiresIn,
      token_type: 'Bearer',
    });
  }
}

function decodeIssuer(jwt: string): string | undefined {
  try {
    const payload = JSON.parse(
      Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as {
      iss?: unknown;
    };
    return typeof payload.iss === 'string' ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** Whether a Vertex call names `publisher` and one of its methods, and carries a minted token. */
function vertexRejection(
  call: ProviderFakeCall,
  oauth: FakeGoogleOAuth,
  publisher: string,
  methods: readonly string[],
): number | undefined {
  const match = VERTEX_PATH.exec(call.path);
  if (!match || match[1] !== publisher || !methods.includes(match[2])) return 404;
  return oauth.authorizes(call.headers.authorization) ? undefined : 401;
}

/**
 * Gemini on Vertex AI: the Gemini API's bodies at
 * /v1/projects/{p}/locations/{l}/publishers/google/models/{m}:generateContent and
 * :streamGenerateContent?alt=sse, and text embeddings at :predict (instances of
 * {content}; gemini-embedding models take one instance, the others up to 250, as Vertex
 * documents), authorized by a bearer token `oauth` minted. Each embedding is
 * [content length, index in its call, 0.5...] at outputDimensionality (3 by default), with
 * statistics.token_count the content's word count.
 */
export class FakeVertexGeminiUpstream extends FakeGeminiUpstream {
  protected override readonly takesCallingConfigAlone = true;
  /** How long a :predict waits before answering, by its first content (to reorder answers). */
  predictDelayMs: ((content: string) => number) | undefined;
  /** The most :predict calls that were in flight at once. */
  maxConcurrentPredicts = 0;
  private predicting = 0;

  constructor(private readonly oauth: FakeGoogleOAuth) {
    super();
  }

  override get baseUrl(): string {
    return this.origin;
  }

  override reset(): void {
    super.reset();
    this.predictDelayMs = undefined;
    this.maxConcurrentPredicts = 0;
  }

  protected override reject(call: ProviderFakeCall): number | undefined {
    return vertexRejection(call, this.oauth, 'google', [
      'generateContent',
      'streamGenerateContent',
      'predict',
    ]);
  }

  protected override answer(call: ProviderFakeCall, response: ServerResponse, mode: AnswerMode) {
    if (!call.path.endsWith(':predict')) return super.answer(call, response, mode);
    void this.predict(call, response);
  }

  private async predict(call: ProviderFakeCall, response: ServerResponse): Promise<void> {
    this.predicting++;
    this.maxConcurrentPredicts = Math.max(this.maxConcurrentPredicts, this.predicting);
    try {
      const instances = Array.isArray(call.body.instances)
        ? (call.body.instances as { content?: unknown }[]).map((instance) =>
            typeof instance.content === 'string' ? instance.content : '',
          )
        : [];
      const model = /models\/([^/:]+):predict$/.exec(call.path)?.[1] ?? '';
      const most = model.startsWith('gemini-embedding') ? 1 : 250;
      if (instances.length === 0 || instances.length > most) {
        const message = `Unable to submit request because the model supports up to ${most} instances per request; ${instances.length} were given.`;
        return sendJson(
          response,
          { error: { code: 400, message, status: 'INVALID_ARGUMENT' } },
          400,
        );
      }
      const first = instances[0];
      const delay = this.predictDelayMs?.(first) ?? 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      const parameters = (call.body.parameters ?? {}) as { outputDimensionality?: number };
      const size = parameters.outputDimensionality ?? 3;
      sendJson(response, {
        predictions: instances.map((content, index) => {
          const values = [content.length, index, ...Array<number>(Math.max(0, size - 2)).fill(0.5)];
          return {
            embeddings: {
              values: values.slice(0, size),
              statistics: {
                token_count: content.split(/\s+/).filter(Boolean).length,
                truncated: false,
              },
            },
          };
        }),
        // Google bills its text-embedding models by the character, and says how many.
        ...(model.startsWith('text-')
          ? { metadata: { billableCharacterCount: instances.join('').length } }
          : {}),
      });
    } finally {
      this.predicting--;
    }
  }
}

/**
 * Claude on Vertex AI: Anthropic's Messages bodies at
 * .../publishers/anthropic/models/{m}:rawPredict and :streamRawPredict, with
 * anthropic_version vertex-2023-10-16 in the body and no model there, authorized by a
 * bearer token `oauth` minted.
 */
export class FakeVertexClaudeUpstream extends FakeAnthropicUpstream {
  constructor(private readonly oauth: FakeGoogleOAuth) {
    super();
  }

  protected override reject(call: ProviderFakeCall): number | undefined {
    const refused = vertexRejection(call, this.oauth, 'anthropic', [
      'rawPredict',
      'streamRawPredict',
    ]);
    if (refused !== undefined) return refused;
    if (call.body.anthropic_version !== 'vertex-2023-10-16' || 'model' in call.body) return 400;
    const streams = call.path.endsWith(':streamRawPredict');
    return streams === (call.body.stream === true) ? undefined : 400;
  }
}

import type { ServerResponse } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import {
  type AnswerMode,
  FakeProviderServer,
  type ProviderFakeCall,
  sendJson,
} from './fake-provider-server';

const WORDS = ['Hello', ' from', ' Bedrock', '.'];
const USAGE = {
  inputTokens: 15,
  outputTokens: 6,
  totalTokens: 71,
  cacheReadInputTokens: 40,
  cacheWriteInputTokens: 10,
};
const ERROR_TYPES: Record<number, string> = {
  400: 'ValidationException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};
const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/;

/** A vector of `size` numbers that tells texts apart: the length and first code unit lead. */
function fakeVector(text: string, size: number): number[] {
  return Array.from({ length: size }, (_, index) =>
    index === 0 ? text.length : index === 1 ? text.charCodeAt(0) || 0 : 0.001 * index,
  );
}

/** Tokens a fake model counts in a text: one per word, at least one. */
function fakeTokens(text: string): number {
  return Math.max(1, text.split(/\s+/).filter(Boolean).length);
}

function validationError(response: ServerResponse, message: string): void {
  sendJson(response, { message }, 400, { 'x-amzn-errortype': 'ValidationException' });
}

/**
 * InvokeModel for the embedding models, each in its own body as Bedrock documents them:
 * Amazon Titan Text Embeddings (one `inputText`; V2 takes `dimensions` 256, 512 or 1024)
 * and Cohere Embed (up to 96 `texts`, `input_type` required, `embeddings.float` when
 * `embedding_types` asks for it; v4 takes `output_dimension`). Token counts come in
 * `X-Amzn-Bedrock-Input-Token-Count`, as InvokeModel sends them.
 */
function invokeEmbeddingModel(call: ProviderFakeCall, response: ServerResponse): void {
  const modelId = decodeURIComponent(call.path.split('/')[2] ?? '');
  const body = call.body;
  const headers = (tokens: number) => ({
    'x-amzn-requestid': 'req-bedrock-invoke',
    'x-amzn-bedrock-input-token-count': String(tokens),
    'x-amzn-bedrock-invocation-latency': '30',
  });
  if (modelId.includes('amazon.titan-embed-text-v')) {
    const v2 = modelId.includes('-v2');
    const text = body.inputText;
    if (typeof text !== 'string' || text === '') {
      return validationError(response, 'Malformed input request: #/inputText: expected a string');
    }
    const dimensions = body.dimensions;
    if (!v2 && dimensions !== undefined) {
      return validationError(response, 'Malformed input request: extraneous key [dimensions]');
    }
    if (dimensions !== undefined && ![256, 512, 1024].includes(dimensions as number)) {
      return validationError(response, 'Malformed input request: #/dimensions: not a valid value');
    }
    const vector = fakeVector(text, typeof dimensions === 'number' ? dimensions : v2 ? 1024 : 1536);
    const tokens = fakeTokens(text);
    return sendJson(
      response,
      {
        embedding: vector,
        inputTextTokenCount: tokens,
        ...(v2 ? { embeddingsByType: { float: vector } } : {}),
      },
      200,
      headers(tokens),
    );
  }
  if (modelId.includes('cohere.embed-')) {
    const texts = body.texts;
    if (!Array.isArray(texts) || texts.length > 96 || !texts.every((t) => typeof t === 'string')) {
      return validationError(response, 'Malformed input request: #/texts: expected at most 96');
    }
    if (typeof body.input_type !== 'string') {
      return validationError(response, 'Malformed input request: #/input_type: required');
    }
    const v4 = modelId.includes('embed-v4');
    const size =
      typeof body.output_dimension === 'number' ? body.output_dimension : v4 ? 1536 : 1024;
    const vectors = texts.map((text) => fakeVector(text, size));
    const byType = Array.isArray(body.embedding_types) && body.embedding_types.includes('float');
    const tokens = texts.reduce((sum, text) => sum + fakeTokens(text), 0);
    return sendJson(
      response,
      {
        id: 'emb-bedrock-1',
        embeddings: byType ? { float: vectors } : vectors,
        response_type: byType ? 'embeddings_by_type' : 'embeddings_floats',
        texts,
      },
      200,
      headers(tokens),
    );
  }
  return validationError(response, 'The provided model does not support InvokeModel embeddings.');
}

/** Converse's ToolUseBlock and ToolResultBlock `toolUseId`: 1 to 64 of these characters. */
const TOOL_USE_ID = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * What Converse's validation refuses in a request body (its API reference's constraints),
 * in Bedrock's words; undefined when it would pass. Only the rules the adapter must keep.
 */
function converseBodyProblem(body: Record<string, unknown>): string | undefined {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (const [m, message] of messages.entries()) {
    const content = Array.isArray(message?.content) ? message.content : [];
    for (const [b, block] of content.entries()) {
      const at = `messages.${m}.member.content.${b}.member`;
      const id = block?.toolUse?.toolUseId ?? block?.toolResult?.toolUseId;
      if (id !== undefined && !TOOL_USE_ID.test(String(id))) {
        const kind = block.toolUse ? 'toolUse' : 'toolResult';
        return `1 validation error detected: Value '${id}' at '${at}.${kind}.toolUseId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+`;
      }
      const texts = [block, ...(block?.toolResult?.content ?? [])];
      if (texts.some((each) => typeof each?.text === 'string' && each.text.trim() === '')) {
        return `The text field in the ContentBlock object at messages.${m}.content.${b} is blank. Add text to the text field, and try again.`;
      }
    }
  }
  const tools = (body.toolConfig as { tools?: unknown[] } | undefined)?.tools ?? [];
  const toolBlocks = messages.some((message) =>
    (Array.isArray(message?.content) ? message.content : []).some(
      (block: { toolUse?: unknown; toolResult?: unknown } | null) =>
        block?.toolUse !== undefined || block?.toolResult !== undefined,
    ),
  );
  if (toolBlocks && tools.length === 0) {
    return 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';
  }
  const thinkingProblem = budgetThinkingProblem(body, messages) ?? forcedToolThinkingProblem(body);
  if (thinkingProblem) return thinkingProblem;
  for (const [t, tool] of tools.entries()) {
    const description = (tool as { toolSpec?: { description?: unknown } }).toolSpec?.description;
    if (description === '') {
      return `1 validation error detected: Value '' at 'toolConfig.tools.${t}.member.toolSpec.description' failed to satisfy constraint: Member must have length greater than or equal to 1`;
    }
  }
  return undefined;
}

/**
 * Claude's rule for budget thinking in a tool loop, as Anthropic documents it: with
 * `thinking: {type: "enabled"}`, a request going on a tool loop must carry the thinking the
 * loop began with: the loop's first assistant message starts with its thinking block, else
 * a 400. Its later messages (calls after tool results) need none.
 */
function budgetThinkingProblem(
  body: Record<string, unknown>,
  messages: readonly { role?: unknown; content?: unknown }[],
): string | undefined {
  const fields = body.additionalModelRequestFields as { thinking?: { type?: unknown } } | undefined;
  if (fields?.thinking?.type !== 'enabled') return undefined;
  const blocks = (message: { content?: unknown } | undefined) =>
    (Array.isArray(message?.content) ? message.content : []) as Record<string, unknown>[];
  const answersTools = (message: { role?: unknown; content?: unknown } | undefined) =>
    message?.role === 'user' && blocks(message).some((block) => block.toolResult);
  if (!answersTools(messages.at(-1))) return undefined;
  // The loop is one assistant turn: its first message, since the user's own last, must think.
  let m = messages.length - 2;
  while (m >= 2 && answersTools(messages[m - 1])) m -= 2;
  const first = blocks(messages[m])[0];
  if (first?.reasoningContent) return undefined;
  const found = first ? Object.keys(first)[0] : 'nothing';
  return `messages.${m}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${found}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`.`;
}

/**
 * Claude's rule for thinking beside a forced tool call, as Anthropic documents it: with
 * thinking on, only `auto` (or `none`) may be the tool choice; `any` or a named tool is a 400.
 */
function forcedToolThinkingProblem(body: Record<string, unknown>): string | undefined {
  const fields = body.additionalModelRequestFields as { thinking?: { type?: unknown } } | undefined;
  const type = fields?.thinking?.type;
  if (type !== 'enabled' && type !== 'adaptive') return undefined;
  const choice = (body.toolConfig as { toolChoice?: Record<string, unknown> } | undefined)
    ?.toolChoice;
  if (!choice?.any && !choice?.tool) return undefined;
  return 'Thinking may not be enabled when tool_choice forces tool use.';
}

interface CitedAnswer {
  /** Converse's Citation of the first document that asks to be cited. */
  readonly citation: Record<string, unknown>;
  /** The cited text, then the text after it, uncited. */
  readonly cited: string;
  readonly after: string;
}

/**
 * Claude's answer to a request with a document that asks to be cited (`citations:
 * {enabled: true}`), as Bedrock answered one live: the cited passage first (a character
 * range of a `txt` document, a page range of a `pdf`), then uncited text. The document's
 * index counts every document of the request, in order.
 */
function citedAnswer(body: Record<string, unknown>): CitedAnswer | undefined {
  type Block = { document?: Record<string, unknown> } | null;
  const messages = (Array.isArray(body.messages) ? body.messages : []) as {
    content?: unknown;
  }[];
  const documents = messages.flatMap((message) =>
    (Array.isArray(message?.content) ? (message.content as Block[]) : []).flatMap((block) =>
      block?.document ? [block.document] : [],
    ),
  );
  const documentIndex = documents.findIndex(
    (document) => (document.citations as { enabled?: unknown } | undefined)?.enabled === true,
  );
  if (documentIndex < 0) return undefined;
  const document = documents[documentIndex];
  const source = document.source as { bytes?: unknown } | undefined;
  const bytes = typeof source?.bytes === 'string' ? source.bytes : '';
  const text = document.format === 'txt' ? Buffer.from(bytes, 'base64').toString('utf8') : '';
  const location =
    document.format === 'txt'
      ? { documentChar: { documentIndex, start: 0, end: text.length } }
      : { documentPage: { documentIndex, start: 1, end: 2 } };
  const quoted = document.format === 'txt' ? text : 'Page one of the report.';
  return {
    citation: { location, sourceContent: [{ text: quoted }], title: document.name },
    cited: `The document says: ${quoted}`,
    after: ' That is all it says.',
  };
}

export interface FakeAwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * Bedrock Runtime's Converse API as documented: `POST /model/{modelId}/converse` (JSON)
 * and `/converse-stream` (binary `application/vnd.amazon.eventstream`, encoded with the
 * AWS SDK's own codec), and `/invoke` for the Titan and Cohere embedding models. Every request must carry a SigV4 signature that verifies with
 * the given credentials, or it is refused with 403 as AWS would.
 */
export class FakeBedrockUpstream extends FakeProviderServer {
  private readonly codec = new EventStreamCodec(toUtf8, fromUtf8);
  /** Why the last request's signature was refused, for test failure messages. */
  lastSignatureProblem: string | undefined;
  /** The exception a `stream-error` behaviour sends (ConverseStreamOutput's names). */
  streamException = 'modelStreamErrorException';

  constructor(private readonly credentials: FakeAwsCredentials) {
    super();
  }

  get baseUrl(): string {
    return this.origin;
  }

  protected override errorBody(status: number): unknown {
    return { message: `fake bedrock ${status} (${ERROR_TYPES[status] ?? 'UnknownError'})` };
  }

  protected override reject(call: ProviderFakeCall): number | undefined {
    if (!/^\/model\/[^/]+\/(converse|converse-stream|invoke)$/.test(call.path)) return 404;
    return undefined;
  }

  /** Recomputes the SigV4 signature of a recorded call with the SDK's signer. */
  async verifySignature(call: ProviderFakeCall): Promise<string | undefined> {
    const auth = call.headers.authorization;
    const match = typeof auth === 'string' ? AUTH.exec(auth) : null;
    if (!match) return 'no AWS4-HMAC-SHA256 Authorization header';
    const [, accessKeyId, , region, service, signedHeaders, signature] = match;
    if (accessKeyId !== this.credentials.accessKeyId) return 'unknown access key';
    const amzDate = call.headers['x-amz-date'];
    if (typeof amzDate !== 'string') return 'no X-Amz-Date header';
    const headers: Record<string, string> = {};
    for (const name of signedHeaders.split(';')) {
      const value = call.headers[name];
      if (typeof value !== 'string') return `signed header ${name} is missing`;
      headers[name] = value;
    }
    const [host, port] = headers.host.split(':');
    const signer = new SignatureV4({
      service: service,
      region: region,
      credentials: this.credentials,
      sha256: Sha256,
    });
    const signingDate = new Date(
      amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
    );
    const expected = await signer.sign(
      new HttpRequest({
        method: call.method,
        protocol: 'http:',
        hostname: host,
        port: port ? Number(port) : undefined,
        path: call.path,
        headers,
        body: call.rawBody.toString('utf8'),
      }),
      { signingDate },
    );
    const expectedSignature = /Signature=([0-9a-f]{64})/.exec(
      expected.headers.authorization ?? '',
    )?.[1];
    return expectedSignature === signature ? undefined : 'signature does not match';
  }

  protected override async answer(
    call: ProviderFakeCall,
    response: ServerResponse,
    mode: AnswerMode,
  ) {
    this.lastSignatureProblem = await this.verifySignature(call);
    if (this.lastSignatureProblem) {
      return sendJson(
        response,
        {
          message: `The request signature we calculated does not match: ${this.lastSignatureProblem}`,
        },
        403,
        { 'x-amzn-errortype': 'InvalidSignatureException' },
      );
    }
    if (call.path.endsWith('/invoke')) return invokeEmbeddingModel(call, response);
    const messages = call.body.messages as { role?: unknown }[] | undefined;
    if (messages?.[0]?.role !== 'user') {
      return validationError(
        response,
        'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
      );
    }
    const problem = converseBodyProblem(call.body);
    if (problem) return validationError(response, problem);
    const toolConfig = call.body.toolConfig as
      { tools?: { toolSpec: { name: string } }[] } | undefined;
    const tool = toolConfig?.tools?.[0]?.toolSpec.name;
    // Served at the tier asked for, named in the answer as Bedrock names it.
    const served = call.body.serviceTier ? { serviceTier: call.body.serviceTier } : {};
    const cites = citedAnswer(call.body);
    if (call.path.endsWith('/converse')) {
      const content = cites
        ? [
            {
              citationsContent: {
                citations: [cites.citation],
                content: [{ text: cites.cited }],
              },
            },
            { text: cites.after },
          ]
        : tool
          ? [
              { text: 'Checking.' },
              { toolUse: { toolUseId: 'tooluse_1', name: tool, input: { city: 'Paris' } } },
            ]
          : [{ text: WORDS.join('') }];
      return sendJson(
        response,
        {
          output: {
            message: {
              role: 'assistant',
              content,
            },
          },
          stopReason: tool ? 'tool_use' : 'end_turn',
          usage: USAGE,
          metrics: { latencyMs: 120 },
          ...served,
        },
        200,
        { 'x-amzn-requestid': 'req-bedrock-1' },
      );
    }
    return this.stream(response, mode, tool, served, cites);
  }

  private async stream(
    response: ServerResponse,
    mode: AnswerMode,
    tool: string | undefined,
    served: Record<string, unknown>,
    cites?: CitedAnswer,
  ) {
    response.writeHead(200, {
      'content-type': 'application/vnd.amazon.eventstream',
      'x-amzn-requestid': 'req-bedrock-1',
    });
    const events: [string, unknown][] = [['messageStart', { role: 'assistant' }]];
    if (cites) {
      // Each block's sources come before its text, as ConverseStream sends them.
      events.push(
        ['contentBlockDelta', { contentBlockIndex: 0, delta: { citation: cites.citation } }],
        ['contentBlockDelta', { contentBlockIndex: 0, delta: { text: cites.cited } }],
        ['contentBlockStop', { contentBlockIndex: 0 }],
        ['contentBlockDelta', { contentBlockIndex: 1, delta: { text: cites.after } }],
        ['contentBlockStop', { contentBlockIndex: 1 }],
      );
    }
    const texts = cites ? [] : tool ? ['Checking.'] : WORDS;
    for (const text of texts)
      events.push(['contentBlockDelta', { contentBlockIndex: 0, delta: { text } }]);
    if (!cites) events.push(['contentBlockStop', { contentBlockIndex: 0 }]);
    if (tool) {
      events.push(
        [
          'contentBlockStart',
          { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tooluse_1', name: tool } } },
        ],
        ['contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"city":' } } }],
        ['contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: ' "Paris"}' } } }],
        ['contentBlockStop', { contentBlockIndex: 1 }],
      );
    }
    events.push(
      ['messageStop', { stopReason: tool ? 'tool_use' : 'end_turn' }],
      ['metadata', { usage: USAGE, metrics: { latencyMs: 120 }, ...served }],
    );
    for (const [index, [name, payload]] of events.entries()) {
      if (mode.kind !== 'ok' && index >= mode.afterChunks) {
        if (mode.kind === 'stream-error') {
          response.end(
            this.encode('exception', this.streamException, {
              message: 'fake failure mid-stream',
            }),
          );
        } else {
          // Half a frame, then a dropped connection: the decoder must not see a message.
          response.write(this.encode('event', name, payload).subarray(0, 10));
          setTimeout(() => response.destroy(), 20);
        }
        return;
      }
      // Each frame in two writes, so the client decodes messages split across chunks.
      const frame = this.encode('event', name, payload);
      response.write(frame.subarray(0, 7));
      await new Promise((resolve) => setImmediate(resolve));
      response.write(frame.subarray(7));
    }
    response.end();
  }

  private encode(messageType: string, name: string, payload: unknown): Uint8Array {
    const kind = messageType === 'exception' ? ':exception-type' : ':event-type';
    return this.codec.encode({
      headers: {
        ':message-type': { type: 'string', value: messageType },
        [kind]: { type: 'string', value: name },
        ':content-type': { type: 'string', value: 'application/json' },
      },
      body: fromUtf8(JSON.stringify(payload)),
    });
  }
}

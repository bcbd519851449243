import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import { useFakeVertexEndpoints } from '../testing/fake-vertex-endpoints';

const PLACE = { project: 'proj-1', location: 'us-east5' };

/** Vertex's refusal of a model the project may not use (not enabled in Model Garden). */
function notAllowed(publisher: string, model: string) {
  return {
    error: {
      code: 400,
      message:
        `Project \`proj-1\` is not allowed to use Publisher Model ` +
        `\`projects/proj-1/locations/us-east5/publishers/${publisher}/models/${model}\``,
      status: 'FAILED_PRECONDITION',
    },
  };
}

describe("VertexAdapter: a project's refusals are the backend's, not the client's", () => {
  const { gemini, claude, target, invoke } = useFakeVertexEndpoints(PLACE);

  const backendError = (error: DataPlaneError) => {
    assert.equal(error.code, DataPlaneErrorCode.UpstreamError, error.message);
    assert.equal(error.upstreamStatus, 400);
    assert.match(error.message, /not allowed to use Publisher Model/);
    return true;
  };

  it('fails over on FAILED_PRECONDITION for Claude (a list of one error) and Gemini, plain and streamed', async () => {
    const claudeModel = 'claude-sonnet-4-5@20250929';
    for (const stream of [false, true]) {
      claude.next({ kind: 'status', status: 400, body: [notAllowed('anthropic', claudeModel)] });
      await assert.rejects(
        invoke(
          gatewayChatRequest(stream ? { stream: true } : {}),
          target(claudeModel, claude.baseUrl),
        ),
        backendError,
      );
      gemini.next({ kind: 'status', status: 400, body: notAllowed('google', 'gemini-2.5-pro') });
      await assert.rejects(
        invoke(
          gatewayChatRequest(stream ? { stream: true } : {}),
          target('gemini-2.5-pro', gemini.baseUrl),
        ),
        backendError,
      );
    }
  });

  it("keeps Vertex's other 400s the client's (INVALID_ARGUMENT)", async () => {
    gemini.next({
      kind: 'status',
      status: 400,
      body: {
        error: {
          code: 400,
          message: 'Unable to submit request because it has an empty text parameter.',
          status: 'INVALID_ARGUMENT',
        },
      },
    });
    await assert.rejects(
      invoke(gatewayChatRequest(), target('gemini-2.5-pro', gemini.baseUrl)),
      (error: DataPlaneError) => error.code === DataPlaneErrorCode.UpstreamRejected,
    );
  });
});

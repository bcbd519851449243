import type { GatewayAnswer, JsonObject, TokenUsage } from '@aigw/contracts/data-plane';

/** Longer than any model name: a field that long is not one. */
const MAX_MODEL_CHARS = 256;

/**
 * An Azure answer with its usage naming the model Azure ran (`usage.answeredModel`): a
 * deployment is called by its owner's name (`prod-chat`), which no price list knows, and
 * each answer names the model behind it (`"model": "gpt-4o-2024-08-06"`, in a JSON body and
 * in a stream's chunks; the prompt-filter chunk that opens a stream has `""`).
 */
export function withAnsweredModel(answer: GatewayAnswer, deployment: string): GatewayAnswer {
  if (answer.kind === 'json') {
    const model = answeredModelOf(answer.body, deployment);
    return model === undefined
      ? answer
      : { ...answer, usage: { ...answer.usage, answeredModel: model } };
  }
  const { events } = answer;
  let model: string | undefined;
  async function* watched(): AsyncGenerator<JsonObject> {
    for await (const chunk of events) {
      model ??= answeredModelOf(chunk, deployment);
      yield chunk;
    }
  }
  // The usage settles at the stream's end, after every chunk passed through here.
  const usage = answer.usage.then((settled): TokenUsage =>
    model === undefined ? settled : { ...settled, answeredModel: model },
  );
  return { ...answer, events: watched(), usage };
}

function answeredModelOf(body: JsonObject, deployment: string): string | undefined {
  const { model } = body;
  return typeof model === 'string' &&
    model !== '' &&
    model !== deployment &&
    model.length <= MAX_MODEL_CHARS
    ? model
    : undefined;
}

"""Less travelled paths: the anthropic SDK's beta resource and model listing, legacy calls."""

from anthropic import Anthropic
from openai import OpenAI

from checks import GATEWAY_URL, check, env

openai_client = OpenAI(base_url=f"{GATEWAY_URL}/v1", api_key="sk-client-python", max_retries=0)
anthropic_client = Anthropic(base_url=GATEWAY_URL, api_key="sk-ant-client-python", max_retries=0)
HELLO = [{"role": "user", "content": "Say hello"}]
BETAS = ["interleaved-thinking-2025-05-14"]

for family, model in (("claude", env("CLAUDE_MODEL")), ("openai", env("OPENAI_FORMAT_CLAUDE"))):

    @check(f"beta_messages_{family}")
    def _(model=model):
        message = anthropic_client.beta.messages.create(
            model=model, max_tokens=64, messages=HELLO, betas=BETAS
        )
        with anthropic_client.beta.messages.stream(
            model=model, max_tokens=64, messages=HELLO, betas=BETAS
        ) as stream:
            streamed = stream.get_final_message()
        counted = anthropic_client.beta.messages.count_tokens(
            model=model, messages=HELLO, betas=BETAS
        )
        return {
            "text": message.content[0].text,
            "streamed": streamed.content[0].text,
            "counted": counted.input_tokens,
        }


@check("anthropic_models")
def _():
    listed = anthropic_client.models.list()
    models = [model.model_dump() for model in listed]
    retrieved = anthropic_client.models.retrieve(env("CLAUDE_MODEL"))
    return {
        "ids": sorted(model["id"] for model in models),
        "types": sorted({str(model.get("type")) for model in models}),
        "display_names": sorted(str(model.get("display_name")) for model in models)[:3],
        "has_more": listed.has_more,
        "retrieved": retrieved.model_dump(),
    }


@check("legacy_completion")
def _():
    completion = openai_client.completions.create(model=env("OPENAI_MODEL"), prompt="Say hello")
    return {"text": completion.choices[0].text, "object": completion.object}


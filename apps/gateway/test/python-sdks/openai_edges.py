"""The openai SDK's embeddings, model listing and error classes through the gateway."""

import openai
from openai import OpenAI

from checks import GATEWAY_URL, CountingHooks, check, env

EMBED_MODEL = env("EMBED_MODEL")
CHAT_MODEL = env("CHAT_MODEL")
SPENT_MODEL = env("SPENT_MODEL")
HELLO = [{"role": "user", "content": "Say hello"}]


def client(max_retries=0, hooks=None):
    http_client = openai.DefaultHttpxClient(event_hooks={"request": [hooks]}) if hooks else None
    return OpenAI(
        base_url=f"{GATEWAY_URL}/v1",
        api_key="sk-client-python",
        max_retries=max_retries,
        http_client=http_client,
    )


@check("embeddings_default")
def _():
    # The SDK asks for base64 unless told otherwise, and decodes it itself.
    result = client().embeddings.create(model=EMBED_MODEL, input=["first", "second"])
    return {
        "count": len(result.data),
        "indexes": [item.index for item in result.data],
        "vectors": [[round(value, 5) for value in item.embedding] for item in result.data],
        "usage": result.usage.model_dump(),
    }


@check("embeddings_float")
def _():
    result = client().embeddings.create(model=EMBED_MODEL, input="one", encoding_format="float")
    return {"vectors": [[round(value, 5) for value in item.embedding] for item in result.data]}


@check("models_list")
def _():
    page = client().models.list()
    return {
        "ids": sorted(model.id for model in page),
        "objects": sorted({model.object for model in page}),
        "owned_by": sorted({model.owned_by for model in page}),
    }


@check("model_retrieve")
def _():
    model = client().models.retrieve(CHAT_MODEL)
    return {"id": model.id, "object": model.object}


def error_details(call):
    try:
        call()
    except openai.APIStatusError as error:
        body = error.body if isinstance(error.body, dict) else {}
        return {
            "raised": type(error).__name__,
            "status": error.status_code,
            "code": error.code,
            "type": error.type,
            "param": error.param,
            "body_keys": sorted(body),
            "request_id": error.request_id,
            "x_should_retry": error.response.headers.get("x-should-retry"),
            "retry_after": error.response.headers.get("retry-after"),
        }
    return {"raised": None}


@check("unknown_model")
def _():
    hooks = CountingHooks()
    details = error_details(
        lambda: client(max_retries=2, hooks=hooks).chat.completions.create(
            model="no-such-model", messages=HELLO
        )
    )
    return {**details, "attempts": hooks.requests}


@check("prompt_rule")
def _():
    hooks = CountingHooks()
    details = error_details(
        lambda: client(max_retries=2, hooks=hooks).chat.completions.create(
            model=CHAT_MODEL,
            messages=[{"role": "user", "content": "this is for internal use only"}],
        )
    )
    return {**details, "attempts": hooks.requests}


@check("budget_spent")
def _():
    # The SDK's default two retries: a budget spent for days must not be retried.
    hooks = CountingHooks()
    details = error_details(
        lambda: client(max_retries=2, hooks=hooks).chat.completions.create(
            model=SPENT_MODEL, messages=HELLO, extra_headers={"x-user-id": "python-user"}
        )
    )
    return {**details, "attempts": hooks.requests}

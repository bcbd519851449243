"""The anthropic SDK's calls, against one backend family (models named in env)."""

import anthropic
from anthropic import Anthropic

from checks import GATEWAY_URL, CountingHooks, check, env

MODEL = env("MODEL")
TOOL_MODEL = env("TOOL_MODEL")
HELLO = [{"role": "user", "content": "Say hello"}]
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["city"],
    },
}


def client(max_retries=0, hooks=None):
    http_client = anthropic.DefaultHttpxClient(event_hooks={"request": [hooks]}) if hooks else None
    return Anthropic(
        base_url=GATEWAY_URL,
        api_key="sk-ant-client-python",
        max_retries=max_retries,
        http_client=http_client,
    )


def blocks(message):
    return [block.model_dump(exclude_none=True) for block in message.content]


@check("messages_plain")
def _():
    message = client().messages.create(model=MODEL, max_tokens=64, messages=HELLO)
    return {
        "id_prefix": message.id[:4],
        "type": message.type,
        "role": message.role,
        "model": message.model,
        "content": blocks(message),
        "stop_reason": message.stop_reason,
        "usage": message.usage.model_dump(exclude_none=True),
    }


@check("messages_stream")
def _():
    with client().messages.stream(model=MODEL, max_tokens=64, messages=HELLO) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    return {
        "text": text,
        "content": blocks(final),
        "stop_reason": final.stop_reason,
        "usage": final.usage.model_dump(exclude_none=True),
    }


@check("tool_use")
def _():
    message = client().messages.create(
        model=TOOL_MODEL,
        max_tokens=256,
        tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    uses = [block for block in message.content if block.type == "tool_use"]
    return {
        "stop_reason": message.stop_reason,
        "uses": [{"name": use.name, "input": use.input, "id_given": bool(use.id)} for use in uses],
    }


@check("tool_use_stream")
def _():
    with client().messages.stream(
        model=TOOL_MODEL,
        max_tokens=256,
        tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    ) as stream:
        json_deltas = sum(1 for event in stream if event.type == "input_json")
        final = stream.get_final_message()
    uses = [block for block in final.content if block.type == "tool_use"]
    return {
        "stop_reason": final.stop_reason,
        "json_deltas": json_deltas,
        "uses": [{"name": use.name, "input": use.input} for use in uses],
    }


@check("count_tokens")
def _():
    counted = client().messages.count_tokens(model=MODEL, messages=HELLO)
    return {"input_tokens": counted.input_tokens}


@check("raw_response_headers")
def _():
    raw = client().messages.with_raw_response.create(model=MODEL, max_tokens=64, messages=HELLO)
    message = raw.parse()
    return {
        "request_id": raw.headers.get("request-id"),
        "x_request_id": raw.headers.get("x-request-id"),
        "sdk_request_id": message._request_id,
    }


def error_details(call, hooks):
    try:
        call()
    except anthropic.APIStatusError as error:
        body = error.body if isinstance(error.body, dict) else {}
        return {
            "raised": type(error).__name__,
            "status": error.status_code,
            "body_type": body.get("type"),
            "error_type": (body.get("error") or {}).get("type"),
            "request_id": error.request_id,
            "x_should_retry": error.response.headers.get("x-should-retry"),
            "attempts": hooks.requests,
        }
    return {"raised": None, "attempts": hooks.requests}


@check("unknown_model")
def _():
    hooks = CountingHooks()
    return error_details(
        lambda: client(2, hooks).messages.create(
            model="no-such-model", max_tokens=16, messages=HELLO
        ),
        hooks,
    )


@check("prompt_rule")
def _():
    hooks = CountingHooks()
    return error_details(
        lambda: client(2, hooks).messages.create(
            model=MODEL,
            max_tokens=16,
            messages=[{"role": "user", "content": "this is for internal use only"}],
        ),
        hooks,
    )


@check("budget_spent")
def _():
    hooks = CountingHooks()
    return error_details(
        lambda: client(2, hooks).messages.create(
            model=env("SPENT_MODEL"),
            max_tokens=16,
            messages=HELLO,
            extra_headers={"x-user-id": "python-user"},
        ),
        hooks,
    )


@check("raw_event_stream")
def _():
    # stream=True without the helper: the events as they come.
    events = client().messages.create(model=MODEL, max_tokens=64, messages=HELLO, stream=True)
    types = [event.type for event in events]
    return {"first": types[0], "last": types[-1], "stops": types.count("message_stop")}


@check("image_input")
def _():
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    image = {"type": "base64", "media_type": "image/png", "data": png}
    message = client().messages.create(
        model=MODEL,
        max_tokens=64,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": image},
                    {"type": "text", "text": "What is this?"},
                ],
            }
        ],
    )
    return {"stop_reason": message.stop_reason}

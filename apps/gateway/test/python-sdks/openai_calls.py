"""The openai SDK's everyday calls, against one backend family (models named in env)."""

import json

import openai
from openai import OpenAI
from pydantic import BaseModel

from checks import GATEWAY_URL, check, env

CHAT_MODEL = env("CHAT_MODEL")
TOOL_MODEL = env("TOOL_MODEL")
JSON_MODEL = env("JSON_MODEL")

client = OpenAI(base_url=f"{GATEWAY_URL}/v1", api_key="sk-client-python", max_retries=0)
HELLO = [{"role": "user", "content": "Say hello"}]


class GetWeather(BaseModel):
    city: str


class Weather(BaseModel):
    city: str


@check("chat_plain")
def _():
    completion = client.chat.completions.create(model=CHAT_MODEL, messages=HELLO)
    choice = completion.choices[0]
    return {
        "object": completion.object,
        "model": completion.model,
        "content": choice.message.content,
        "role": choice.message.role,
        "finish_reason": choice.finish_reason,
        "usage": completion.usage.model_dump() if completion.usage else None,
    }


@check("chat_stream_usage")
def _():
    stream = client.chat.completions.create(
        model=CHAT_MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    text, usages, finishes, ids = "", [], [], set()
    for chunk in stream:
        ids.add(chunk.id)
        if chunk.usage is not None:
            usages.append(chunk.usage.model_dump())
        for choice in chunk.choices:
            text += choice.delta.content or ""
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
    return {"text": text, "usages": usages, "finishes": finishes, "ids": len(ids)}


@check("tool_stream_helper")
def _():
    with client.chat.completions.stream(
        model=TOOL_MODEL,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[openai.pydantic_function_tool(GetWeather, name="get_weather")],
    ) as stream:
        events = [event.type for event in stream]
        final = stream.get_final_completion()
    message = final.choices[0].message
    calls = message.tool_calls or []
    return {
        "argument_deltas": events.count("tool_calls.function.arguments.delta"),
        "arguments_done": events.count("tool_calls.function.arguments.done"),
        "finish_reason": final.choices[0].finish_reason,
        "calls": [
            {
                "id": call.id,
                "name": call.function.name,
                "arguments": json.loads(call.function.arguments),
                "parsed": call.function.parsed_arguments.model_dump()
                if call.function.parsed_arguments
                else None,
            }
            for call in calls
        ],
        "usage": final.usage.model_dump() if final.usage else None,
    }


@check("parse_pydantic")
def _():
    completion = client.chat.completions.parse(
        model=JSON_MODEL,
        messages=[{"role": "user", "content": "Weather in Paris, as JSON"}],
        response_format=Weather,
    )
    message = completion.choices[0].message
    return {
        "parsed": message.parsed.model_dump() if message.parsed else None,
        "refusal": message.refusal,
        "tool_calls": len(message.tool_calls or []),
        "finish_reason": completion.choices[0].finish_reason,
        "beta_parse": hasattr(getattr(client, "beta", None), "chat"),
    }


@check("responses_plain")
def _():
    response = client.responses.create(model=CHAT_MODEL, input="Say hello")
    return {
        "object": response.object,
        "status": response.status,
        "model": response.model,
        "output_text": response.output_text,
        "usage": response.usage.model_dump() if response.usage else None,
    }


@check("responses_stream")
def _():
    stream = client.responses.create(model=CHAT_MODEL, input="Say hello", stream=True)
    types, deltas, completed = [], "", None
    for event in stream:
        types.append(event.type)
        if event.type == "response.output_text.delta":
            deltas += event.delta
        if event.type == "response.completed":
            completed = event.response
    return {
        "first": types[0] if types else None,
        "last": types[-1] if types else None,
        "deltas": deltas,
        "completed_text": completed.output_text if completed else None,
        "completed_usage": completed.usage.model_dump() if completed and completed.usage else None,
    }


@check("responses_stream_helper")
def _():
    with client.responses.stream(model=CHAT_MODEL, input="Say hello") as stream:
        for _event in stream:
            pass
        final = stream.get_final_response()
    return {"output_text": final.output_text, "status": final.status}


@check("raw_response_headers")
def _():
    raw = client.chat.completions.with_raw_response.create(model=CHAT_MODEL, messages=HELLO)
    completion = raw.parse()
    return {
        "status": raw.status_code,
        "request_id": raw.headers.get("x-request-id"),
        "sdk_request_id": completion._request_id,
        "content": completion.choices[0].message.content,
    }


@check("responses_lifecycle")
def _():
    response = client.responses.create(model=CHAT_MODEL, input="Say hello")
    retrieved = client.responses.retrieve(response.id)
    items = list(client.responses.input_items.list(response.id))
    counted = client.responses.input_tokens.count(model=CHAT_MODEL, input="Say hello")
    conversation = client.conversations.create()
    in_conversation = client.responses.create(
        model=CHAT_MODEL, input="Say hello", conversation=conversation.id
    )
    client.responses.delete(response.id)
    try:
        client.responses.retrieve(response.id)
        after_delete = None
    except openai.NotFoundError as error:
        after_delete = error.status_code
    return {
        "retrieved_text": retrieved.output_text,
        "input_items": [item.type for item in items],
        "input_tokens": counted.input_tokens,
        "in_conversation": in_conversation.status,
        "after_delete": after_delete,
    }

"""The loops Python agents write: an SDK's own answer objects sent back as the next turn."""

import json

import openai
from anthropic import Anthropic
from openai import OpenAI
from pydantic import BaseModel

from checks import GATEWAY_URL, check, env

openai_client = OpenAI(base_url=f"{GATEWAY_URL}/v1", api_key="sk-client-python", max_retries=0)
anthropic_client = Anthropic(base_url=GATEWAY_URL, api_key="sk-ant-client-python", max_retries=0)


class GetWeather(BaseModel):
    city: str


class Weather(BaseModel):
    city: str


CHAT_TOOLS = [openai.pydantic_function_tool(GetWeather, name="get_weather")]
RESPONSES_TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": True,
    }
]
ANTHROPIC_TOOLS = [
    {
        "name": "get_weather",
        "description": "Current weather for a city",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
]

FAMILIES = {
    "openai": {"tool": env("OPENAI_TOOL_MODEL"), "json": env("OPENAI_JSON_MODEL")},
    "claude": {"tool": env("CLAUDE_OPENAI_MODEL"), "json": env("CLAUDE_OPENAI_MODEL")},
}

for family, models in FAMILIES.items():

    @check(f"chat_tool_round_trip_{family}")
    def _(models=models):
        messages = [{"role": "user", "content": "Weather in Paris?"}]
        first = openai_client.chat.completions.create(
            model=models["tool"], messages=messages, tools=CHAT_TOOLS
        )
        message = first.choices[0].message
        messages.append(message)  # the SDK's object, as its README shows
        for call in message.tool_calls or []:
            messages.append({"role": "tool", "tool_call_id": call.id, "content": "21 C, sunny"})
        second = openai_client.chat.completions.create(
            model=models["tool"], messages=messages, tools=CHAT_TOOLS
        )
        return {
            "first_finish": first.choices[0].finish_reason,
            "sent_back": sorted(message.model_dump(exclude_unset=True)),
            "second_finish": second.choices[0].finish_reason,
        }

    @check(f"chat_parse_round_trip_{family}")
    def _(models=models):
        messages = [{"role": "user", "content": "Weather in Paris, as JSON"}]
        first = openai_client.chat.completions.parse(
            model=models["json"], messages=messages, response_format=Weather
        )
        messages.append(first.choices[0].message)
        messages.append({"role": "user", "content": "Thanks"})
        second = openai_client.chat.completions.create(model=models["json"], messages=messages)
        return {
            "parsed": first.choices[0].message.parsed.model_dump(),
            "second_finish": second.choices[0].finish_reason,
        }

    @check(f"chat_stream_parse_{family}")
    def _(models=models):
        with openai_client.chat.completions.stream(
            model=models["json"],
            messages=[{"role": "user", "content": "Weather in Paris, as JSON"}],
            response_format=Weather,
        ) as stream:
            for _event in stream:
                pass
            final = stream.get_final_completion()
        parsed = final.choices[0].message.parsed
        return {"parsed": parsed.model_dump() if parsed else None}

    @check(f"responses_parse_{family}")
    def _(models=models):
        response = openai_client.responses.parse(
            model=models["json"], input="Weather in Paris, as JSON", text_format=Weather
        )
        parsed = response.output_parsed
        return {"parsed": parsed.model_dump() if parsed else None, "status": response.status}

    @check(f"responses_tool_round_trip_{family}")
    def _(models=models):
        items = [{"role": "user", "content": "Weather in Paris?"}]
        first = openai_client.responses.create(
            model=models["tool"], input=items, tools=RESPONSES_TOOLS
        )
        items += first.output  # the SDK's output items, as OpenAI's function-calling guide does
        calls = [item for item in first.output if item.type == "function_call"]
        for call in calls:
            items.append(
                {"type": "function_call_output", "call_id": call.call_id, "output": "21 C, sunny"}
            )
        second = openai_client.responses.create(
            model=models["tool"], input=items, tools=RESPONSES_TOOLS
        )
        return {
            "first_types": [item.type for item in first.output],
            "calls": [json.loads(call.arguments) for call in calls],
            "second_status": second.status,
            "second_types": [item.type for item in second.output],
        }

    @check(f"responses_previous_id_{family}")
    def _(models=models):
        first = openai_client.responses.create(model=models["json"], input="Remember Paris")
        second = openai_client.responses.create(
            model=models["json"], input="Which city?", previous_response_id=first.id
        )
        return {"second_status": second.status, "second_previous": second.previous_response_id}


for family, model in (("claude", env("CLAUDE_MODEL")), ("openai", env("OPENAI_FORMAT_CLAUDE"))):

    @check(f"anthropic_tool_round_trip_{family}")
    def _(model=model):
        messages = [{"role": "user", "content": "Weather in Paris?"}]
        first = anthropic_client.messages.create(
            model=model, max_tokens=256, tools=ANTHROPIC_TOOLS, messages=messages
        )
        messages.append({"role": "assistant", "content": first.content})  # the SDK's blocks
        messages.append(
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": block.id, "content": "21 C, sunny"}
                    for block in first.content
                    if block.type == "tool_use"
                ],
            }
        )
        second = anthropic_client.messages.create(
            model=model, max_tokens=256, tools=ANTHROPIC_TOOLS, messages=messages
        )
        return {
            "first_stop": first.stop_reason,
            "sent_back": [sorted(block.model_dump(exclude_unset=True)) for block in first.content],
            "second_stop": second.stop_reason,
        }


@check("anthropic_thinking_stream_claude")
def _():
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    with anthropic_client.messages.stream(
        model=env("CLAUDE_MODEL"),
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        tools=ANTHROPIC_TOOLS,
        messages=messages,
    ) as stream:
        final = stream.get_final_message()
    messages.append({"role": "assistant", "content": final.content})
    messages.append(
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": block.id, "content": "21 C"}
                for block in final.content
                if block.type == "tool_use"
            ],
        }
    )
    second = anthropic_client.messages.create(
        model=env("CLAUDE_MODEL"),
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        tools=ANTHROPIC_TOOLS,
        messages=messages,
    )
    return {
        "blocks": [block.type for block in final.content],
        "signature": bool(getattr(final.content[0], "signature", None)),
        "second_stop": second.stop_reason,
    }

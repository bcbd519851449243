"""What each SDK's stream does when the backend's answer breaks off part-way."""

from anthropic import Anthropic
from openai import OpenAI

from checks import GATEWAY_URL, check, env

openai_client = OpenAI(base_url=f"{GATEWAY_URL}/v1", api_key="sk-client-python", max_retries=0)
anthropic_client = Anthropic(base_url=GATEWAY_URL, api_key="sk-ant-client-python", max_retries=0)
HELLO = [{"role": "user", "content": "Say hello"}]


def consumed(events, on_event):
    """Reads `events` to their end; what arrived, and what (if anything) was raised."""
    seen = []
    try:
        for event in events:
            seen.append(on_event(event))
        return {"seen": seen, "raised": None}
    except Exception as error:  # the test asserts on how the SDK reports the break
        return {"seen": seen, "raised": type(error).__name__, "message": str(error)[:300]}


def chat_piece(chunk):
    return {
        "content": "".join(choice.delta.content or "" for choice in chunk.choices),
        "finish": [choice.finish_reason for choice in chunk.choices if choice.finish_reason],
    }


for family, model in (("openai", env("OPENAI_BROKEN")), ("claude", env("CLAUDE_BROKEN"))):

    @check(f"chat_stream_{family}")
    def _():
        return consumed(
            openai_client.chat.completions.create(model=model, messages=HELLO, stream=True),
            chat_piece,
        )

    @check(f"responses_stream_{family}")
    def _():
        return consumed(
            openai_client.responses.create(model=model, input="Say hello", stream=True),
            lambda event: event.type,
        )

    @check(f"messages_stream_{family}")
    def _():
        with anthropic_client.messages.stream(
            model=model, max_tokens=64, messages=HELLO
        ) as stream:
            result = consumed(stream, lambda event: event.type)
            if result["raised"] is None:
                final = stream.get_final_message()
                result["final_stop_reason"] = final.stop_reason
        return result

"""Multipart uploads (files, audio) and structured output with the Python SDKs."""

import json
import pathlib
import tempfile

from anthropic import Anthropic
from openai import OpenAI
from pydantic import BaseModel

from checks import GATEWAY_URL, check, env

BATCH_MODEL = env("BATCH_MODEL")
openai_client = OpenAI(
    base_url=f"{GATEWAY_URL}/v1",
    api_key="sk-client-python",
    max_retries=0,
    # The gateway keeps a file at a backend of the model it is for (README: Files API).
    default_headers={"x-user-id": "python-user", "x-ai-gateway-model": BATCH_MODEL},
)
anthropic_client = Anthropic(base_url=GATEWAY_URL, api_key="sk-ant-client-python", max_retries=0)
LINES = "".join(
    json.dumps(
        {
            "custom_id": custom_id,
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": BATCH_MODEL,
                "messages": [{"role": "user", "content": f"question {custom_id}"}],
                "max_tokens": 20,
            },
        }
    )
    + "\n"
    for custom_id in ("a", "b")
)


class Weather(BaseModel):
    city: str


def file_fields(file):
    return {
        "id_prefix": file.id[:5],
        "object": file.object,
        "bytes": file.bytes,
        "filename": file.filename,
        "purpose": file.purpose,
    }


@check("file_from_path")
def _():
    # What most scripts do: a path (or an open file), so httpx names the part after it.
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder, "requests.jsonl")
        path.write_text(LINES)
        created = openai_client.files.create(file=path, purpose="batch")
    retrieved = openai_client.files.retrieve(created.id)
    content = openai_client.files.content(created.id).read().decode()
    listed = [file.id for file in openai_client.files.list()]
    batch = openai_client.batches.create(
        input_file_id=created.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    return {
        "created": file_fields(created),
        "retrieved": file_fields(retrieved),
        "content_lines": [json.loads(line) for line in content.splitlines() if line],
        "sent_lines": [json.loads(line) for line in LINES.splitlines()],
        "sent_bytes": len(LINES.encode()),
        "listed": created.id in listed,
        "batch_object": batch.object,
        "batch_input": batch.input_file_id == created.id,
        "batch_endpoint": batch.endpoint,
    }


@check("file_from_tuple")
def _():
    created = openai_client.files.create(
        file=("tuple.jsonl", LINES.encode(), "application/jsonl"), purpose="batch"
    )
    deleted = openai_client.files.delete(created.id)
    return {"created": file_fields(created), "deleted": deleted.deleted}


@check("transcription")
def _():
    audio = ("clip.wav", b"RIFF" + bytes(64), "audio/wav")
    text = openai_client.audio.transcriptions.create(model=env("AUDIO_MODEL"), file=audio)
    plain = openai_client.audio.transcriptions.create(
        model=env("AUDIO_MODEL"), file=audio, response_format="text"
    )
    verbose = openai_client.audio.transcriptions.create(
        model=env("AUDIO_MODEL"), file=audio, response_format="verbose_json"
    )
    return {
        "text": text.text,
        "plain": plain if isinstance(plain, str) else repr(plain),
        "verbose_duration": verbose.duration,
        "verbose_segments": len(verbose.segments or []),
    }


for family, model in (("claude", env("CLAUDE_MODEL")), ("openai", env("OPENAI_FORMAT_MODEL"))):

    @check(f"anthropic_parse_{family}")
    def _():
        message = anthropic_client.messages.parse(
            model=model,
            max_tokens=256,
            messages=[{"role": "user", "content": "Weather in Paris, as JSON"}],
            output_format=Weather,
        )
        return {
            "parsed": message.parsed_output.model_dump() if message.parsed_output else None,
            "stop_reason": message.stop_reason,
            "blocks": [block.type for block in message.content],
        }

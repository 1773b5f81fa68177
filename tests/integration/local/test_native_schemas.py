"""The native routes and the mock's native schemas as pure functions (no sockets).

Table-driven for the path forms; property-based for the request bodies, which come from
outside: whatever JSON a client sends, the mock responds in its provider's schema (never
a crash, which the gateway would turn into a 500).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from langchain_cf_gateway.core.providers import find_provider
from langchain_cf_gateway.local.mock import MockModel
from langchain_cf_gateway.local.native_mock import respond
from langchain_cf_gateway.local.native_routes import NativeEndpoint, native_endpoint
from langchain_cf_gateway.local.upstream import ProviderCall


@pytest.mark.parametrize(
    ("slug", "path", "method", "expected"),
    [
        ("openai", "v1/chat/completions", "POST", NativeEndpoint("chat/completions")),
        ("openai", "chat/completions", "POST", NativeEndpoint("chat/completions")),
        ("openai", "v1/responses", "POST", NativeEndpoint("responses", "responses")),
        ("openai", "responses", "POST", NativeEndpoint("responses", "responses")),
        ("openai", "responses", "GET", NativeEndpoint("responses")),
        ("cerebras", "v1/chat/completions", "POST", NativeEndpoint("chat/completions")),
        ("mistral", "v1/chat/completions", "POST", NativeEndpoint("v1/chat/completions")),
        ("workers-ai", "run/@cf/meta/x", "POST", NativeEndpoint("@cf/meta/x")),
        ("workers-ai", "run/other", "POST", NativeEndpoint("run/other")),
        (
            "anthropic",
            "v1/messages/count_tokens",
            "POST",
            NativeEndpoint("v1/messages/count_tokens", "count_tokens"),
        ),
        ("anthropic", "v1/messages", "POST", NativeEndpoint("v1/messages")),
        (
            "google-ai-studio",
            "v1beta/models/gemini-2.0-flash:generateContent",
            "POST",
            NativeEndpoint(
                "v1beta/models/gemini-2.0-flash:generateContent",
                "generate_content",
                "gemini-2.0-flash",
                False,
            ),
        ),
        (
            "google-ai-studio",
            "v1/models/g:streamGenerateContent",
            "POST",
            NativeEndpoint("v1/models/g:streamGenerateContent", "generate_content", "g", True),
        ),
        (
            "google-ai-studio",
            "v1beta/models/e:batchEmbedContents",
            "POST",
            NativeEndpoint("v1beta/models/e:batchEmbedContents", "embed_content", "e", False),
        ),
        ("google-ai-studio", "v1beta/models", "GET", NativeEndpoint("v1beta/models", "model_list")),
        (
            "google-ai-studio",
            "v1beta/models/g",
            "GET",
            NativeEndpoint("v1beta/models/g", "model_list", "g"),
        ),
        (
            "google-ai-studio",
            "v1beta/models/g:generateContent",
            "GET",
            NativeEndpoint("v1beta/models/g:generateContent", "other"),
        ),
        ("google-ai-studio", "v2/models/g:x", "POST", NativeEndpoint("v2/models/g:x", "other")),
        (
            "google-ai-studio",
            "v1beta/models/:embedContent",
            "POST",
            NativeEndpoint("v1beta/models/:embedContent", "other"),
        ),
    ],
)
def test_native_endpoint(slug: str, path: str, method: str, expected: NativeEndpoint) -> None:
    assert native_endpoint(slug, path, method) == expected


@given(
    st.sampled_from(["openai", "cerebras", "workers-ai", "anthropic", "google-ai-studio", "groq"]),
    st.text(max_size=60),
    st.sampled_from(["GET", "POST"]),
)
def test_native_endpoint_only_drops_a_prefix(slug: str, path: str, method: str) -> None:
    endpoint = native_endpoint(slug, path, method)
    assert path.endswith(endpoint.path)
    assert (endpoint.model is None) or endpoint.model in path


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(
    [
        "input", "instructions", "tools", "tool_choice", "max_output_tokens", "text", "model",
        "contents", "systemInstruction", "toolConfig", "generationConfig", "requests",
        "content", "outputDimensionality", "messages", "system", "generateContentRequest",
    ]
)  # fmt: skip
BODIES = st.dictionaries(KEYS, JSON_VALUES, max_size=6)
CALLS = [
    ("openai", "responses", "responses", False),
    ("openai", "responses", "responses", True),
    ("anthropic", "count_tokens", "v1/messages/count_tokens", False),
    ("google-ai-studio", "count_tokens", "v1beta/models/g:countTokens", False),
    ("google-ai-studio", "generate_content", "v1beta/models/g:generateContent", False),
    ("google-ai-studio", "generate_content", "v1beta/models/g:streamGenerateContent", True),
    ("google-ai-studio", "embed_content", "v1beta/models/e:embedContent", False),
    ("google-ai-studio", "embed_content", "v1beta/models/e:batchEmbedContents", False),
]


def call_of(
    slug: str, operation: Any, path: str, stream: bool, body: dict[str, Any]
) -> ProviderCall:
    provider = find_provider(slug)
    assert provider is not None
    return ProviderCall(
        provider=provider,
        operation=operation,
        path=path,
        model="m",
        fault=None,
        body=body,
        raw_body=json.dumps(body).encode(),
        headers={},
        stream=stream,
        log_path=f"{slug}/{path}",
        query_string="alt=sse",
    )


@pytest.mark.parametrize(("slug", "operation", "path", "stream"), CALLS)
@given(body=BODIES)
def test_any_json_body_gets_a_response_in_the_providers_schema(
    slug: str, operation: str, path: str, stream: bool, body: dict[str, Any]
) -> None:
    out = respond(MockModel(), call_of(slug, operation, path, stream, body), None, None, 0)
    assert out is not None
    if out.status == 400:  # a value out of its bounds, refused in Google's error shape
        assert out.body is not None and slug == "google-ai-studio"
        assert set(json.loads(out.body)["error"]) == {"code", "message", "status"}
        return
    assert out.status == 200
    if out.frames is None:
        assert out.body is not None and isinstance(json.loads(out.body), dict)
    else:
        data = [
            line[5:]
            for f in out.frames
            for line in f.decode().splitlines()
            if line.startswith("data:")
        ]
        assert data and all(isinstance(json.loads(d), dict) for d in data)

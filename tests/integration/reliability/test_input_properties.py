"""Bad input, property-based: model ids, every GatewayOptions field, metadata, config.

Each target is a pure function of core (no network) run on at least 2,000 generated
cases. The contract: bad input raises a ``GatewayInputError`` (a ``ValueError``) that
names the field, and nothing else; good input renders into headers and URLs that can
travel on the wire as they are (printable ASCII, no CR or LF, within
``Bounds.HEADER_VALUE_MAX_CHARS``, no path, query or fragment smuggled into a URL).

Every target draws one seed from hypothesis and builds its case with ``random``: on
this machine hypothesis pays about a millisecond per drawn value, and a case of a dozen
drawn values made the suite too slow for ``make test``. The case is printed with
``note`` when a property fails, and the seed reproduces it.

That nothing reaches the wire for bad input through the chat model and the LiteLLM
handler is proved in ``test_input_no_wire.py``, against a live local gateway.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from langchain_cf_gateway.core import (
    Bounds,
    ConfigError,
    GatewayConfig,
    GatewayInputError,
    GatewayOptions,
    Header,
    InvalidModelIdError,
    InvalidOptionError,
    build_route,
    coerce_options,
    parse_model_id,
)
from langchain_cf_gateway.core.providers import PROVIDERS

CASES = settings(
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,  # deterministic per seed; no .hypothesis directory in the tree
)

# Characters an attacker or a careless paste brings into a header or a URL.
INJECTION = [
    "\r",
    "\n",
    "\r\n",
    "\0",
    "\t",
    "\x7f",
    "\x85",
    "\u2028",
    " ",
    "?",
    "#",
    "%",
    "/",
    "\\",
    ":",
    "@",
    "..",
    "é",
    "日本",
    "🙂",
    "\ufeff",
    "\x1b[31m",
    "\r\nX-Evil: 1",
]
WORDS = ["a", "gpt-4o-mini", "Z9", "_", "-", "x" * 70, ""]
PIECES = INJECTION + WORDS
rng_text_pieces = PIECES + [chr(c) for c in range(0, 0x250, 7)]


def random_text(rng: random.Random) -> str:
    """A short text of attack pieces, words and assorted characters (up to U+0250)."""
    return "".join(rng.choice(rng_text_pieces) for _ in range(rng.randint(0, 4)))


SLUGS = [name for p in PROVIDERS for name in (p.slug, *p.aliases)] + [
    "dynamic",
    "custom-acme",
    "custom-",
    "@cf",
    "compat",
    "unknown",
    "OPENAI",
]


def random_model_id(rng: random.Random) -> str:
    shape = rng.randrange(5)
    if shape == 0:
        return random_text(rng)
    if shape == 1:
        return f"{rng.choice(SLUGS)}{rng.choice(['/', '//', ''])}{random_text(rng)}"
    if shape == 2:
        return f"custom-{random_text(rng)}/{random_text(rng)}"
    return f"{rng.choice(['@cf/', 'workers-ai/', 'workers-ai/@cf/'])}{random_text(rng)}"


SEEDS = st.integers(min_value=0, max_value=2**63)

CONFIG = GatewayConfig(
    account_id="acct", gateway_id="gw", token="tok", base_url="http://127.0.0.1:9"
)
GATEWAY_PATH = "/v1/acct/gw/"


def assert_header_safe(name: str, value: str) -> None:
    assert name.startswith("cf-aig-"), name
    assert value.isascii() and value.isprintable(), (name, value)
    assert value == value.strip(), (name, value)
    assert 0 < len(value) <= Bounds.HEADER_VALUE_MAX_CHARS, (name, len(value))


# --------------------------------------------------------------------------- model ids


@CASES
@given(SEEDS)
def test_model_id_routes_or_names_the_fix(seed: int) -> None:
    rng = random.Random(seed)
    model_id, endpoint = random_model_id(rng), rng.choice(["compat", "native", "rest"])
    note(f"model_id={model_id!r} endpoint={endpoint!r}")
    try:
        route = build_route(CONFIG, model_id, endpoint)
    except GatewayInputError as exc:
        assert isinstance(exc, (InvalidModelIdError, ConfigError)), type(exc)
        assert str(exc)
        return
    # Accepted: the URL is ours alone, the model travels in the body as printable ASCII.
    url = httpx.URL(route.url)
    assert route.url.isascii() and route.url.isprintable()
    assert url.host == "127.0.0.1" and not url.query and not url.fragment, route.url
    if endpoint == "rest":
        assert url.path == "/client/v4/accounts/acct/ai/v1/chat/completions"
    else:
        assert url.path.startswith(GATEWAY_PATH), route.url
        slug = url.path[len(GATEWAY_PATH) :].split("/")[0]
        assert slug == ("compat" if endpoint == "compat" else route.ref.slug), route.url
        assert url.path.endswith("/chat/completions")
    assert route.body_model.isascii() and route.body_model.isprintable()
    assert " " not in route.body_model and route.body_model
    # Parsing the canonical id again gives the same reference (the grammar is stable).
    assert parse_model_id(route.ref.model_id).model_id == route.ref.model_id


WRONG_TYPES = [
    None,
    1,
    -1.5,
    math.nan,
    b"openai/gpt",
    ["openai/gpt"],
    {"model": "x"},
    True,
    object(),
]


@CASES
@given(SEEDS)
def test_model_id_of_the_wrong_type(seed: int) -> None:
    model_id = random.Random(seed).choice(WRONG_TYPES)
    try:
        parse_model_id(model_id)
    except InvalidModelIdError as exc:
        assert "model" in str(exc)
    else:
        raise AssertionError(f"{model_id!r} was accepted as a model id")


# --------------------------------------------------------------------------- options

FIELDS = list(GatewayOptions.model_fields)


def check_options(data: dict[str, Any]) -> None:
    try:
        options = GatewayOptions(**data)
    except InvalidOptionError as exc:
        assert exc.field in data, (exc.field, data)
        assert str(exc).startswith(f"{exc.field}: ")
        return
    for name, value in options.to_headers().items():
        assert_header_safe(name, value)
    # What was accepted is what goes out: each set field has its header.
    headers = options.to_headers()
    for field, value in data.items():
        if value is None or (
            value is False and field in ("skip_cache", "no_wholesale", "no_session_affinity")
        ):
            continue
        if field == "metadata" and not value:
            continue
        assert any(h.startswith("cf-aig-") for h in headers), (field, value)
    if data.get("metadata"):
        assert json.loads(headers[Header.METADATA]) == data["metadata"]
    if "cache_ttl" in data and data["cache_ttl"] is not None:
        assert Bounds.CACHE_TTL_MIN_S <= int(headers[Header.CACHE_TTL]) <= Bounds.CACHE_TTL_MAX_S


@CASES
@given(SEEDS)
def test_every_option_field_is_checked_and_named(seed: int) -> None:
    rng = random.Random(seed)
    field = rng.choice([*FIELDS, "ttl", "cacheKey", "metadata ", "__class__"])
    value = random_option_value(rng)
    note(f"{field}={value!r}"[:2000])
    check_options({field: value})


def random_option_value(rng: random.Random) -> Any:
    return rng.choice(
        [
            lambda: None,
            lambda: rng.random() < 0.5,
            lambda: rng.choice([59, 60, 2_592_000, 2_592_001, 0, 1, 5, 6, 5000, 5001, -1, 10**400]),
            lambda: rng.randint(-100, 10_000),
            lambda: rng.choice([0.5, math.nan, math.inf, 60.0]),
            lambda: random_text(rng),
            lambda: rng.choice(["constant", "linear", "exponential", "Constant", "true", "60", ""]),
            lambda: "k" * rng.randint(8185, 8200),
            lambda: random_metadata(rng),
            lambda: {
                rng.choice(
                    [
                        "per_token_in",
                        "per_token_out",
                        "per_cache_read_token",
                        "per_cache_write_token",
                        "total_cost",
                        "x",
                    ]
                ): rng.choice([1e-6, -1.0, math.nan, 0, 10**400])
                for _ in range(rng.randint(0, 3))
            },
            lambda: [1],
            lambda: b"bytes",
        ]
    )()


@CASES
@given(seed=SEEDS)
def test_options_together_and_through_every_entry_point(seed: int) -> None:
    rng = random.Random(seed)
    data = {f: random_option_value(rng) for f in rng.sample(FIELDS, rng.randint(2, 5))}
    note(repr(data)[:2000])
    check_options(data)
    # coerce_options (dicts from users), merge and model_copy must check as strictly.
    for make in (
        lambda: coerce_options(data),
        lambda: GatewayOptions(event_id="base").merge(data),
        lambda: GatewayOptions(event_id="base").model_copy(update=data),
    ):
        try:
            options = make()
        except InvalidOptionError as exc:
            assert exc.field in data
            continue
        assert options is not None
        for name, value in options.to_headers().items():
            assert_header_safe(name, value)


@CASES
@given(SEEDS)
def test_header_injection_in_text_options(seed: int) -> None:
    rng = random.Random(seed)
    field = rng.choice(["cache_key", "event_id", "byok_alias"])
    before, after = random_text(rng), random_text(rng)
    bad = rng.choice(["\r", "\n", "\r\nX-Evil: 1", "\0", "é", "\u2028", " ", "\t", "\x7f"])
    value = before + bad + after
    note(f"{field}={value!r}")
    try:
        GatewayOptions(**{field: value})
    except InvalidOptionError as exc:
        assert exc.field == field
        assert "CR, LF" in str(exc) or "empty" in str(exc) or "at most" in str(exc)
    else:
        # Only a space at neither end can pass: everything else here is unsafe in a header.
        assert bad == " " and value == value.strip() and value.isascii() and value.isprintable()


# --------------------------------------------------------------------------- metadata


def random_metadata_value(rng: random.Random) -> Any:
    return rng.choice(
        [
            lambda: random_text(rng),
            lambda: rng.randint(-(2**70), 2**70),
            lambda: rng.choice([0.5, -0.0, 1e308, math.inf, -math.inf, math.nan, 1e-300]),
            lambda: rng.random() < 0.5,
            lambda: None,
            lambda: [1, 2],
            lambda: {"nested": 1},
            lambda: rng.choice("vé\n") * rng.randint(1000, 9000),
        ]
    )()


def random_metadata(rng: random.Random) -> dict[Any, Any]:
    keys = [
        rng.choice([random_text(rng), "cf.user_id", "CF.x", "user", "", " ", "a\r\nb", "k"])
        for _ in range(rng.randint(0, 7))
    ]
    return {k: random_metadata_value(rng) for k in keys}


@CASES
@given(SEEDS)
def test_metadata(seed: int) -> None:
    metadata = random_metadata(random.Random(seed))
    note(repr(metadata)[:2000])
    try:
        options = GatewayOptions(metadata=metadata)
    except InvalidOptionError as exc:
        assert exc.field == "metadata"
        return
    assert len(metadata) <= Bounds.METADATA_MAX_ENTRIES
    for key, value in metadata.items():
        assert key.strip() and not key.lower().startswith("cf.")
        assert isinstance(value, (str, int, float, bool))
        assert not (isinstance(value, float) and not math.isfinite(value))
    if metadata:
        header = options.to_headers()[Header.METADATA]
        assert_header_safe(Header.METADATA, header)
        assert json.loads(header) == metadata  # non-ASCII travels as \\u escapes, intact


# --------------------------------------------------------------------------- config

ENV_NAMES = [
    "CLOUDFLARE_ACCOUNT_ID",
    "CLOUDFLARE_GATEWAY_ID",
    "CLOUDFLARE_AI_GATEWAY_NAME",
    "CLOUDFLARE_AI_GATEWAY_BASE_URL",
]
TOKEN_ENV_NAMES = ["CLOUDFLARE_AI_GATEWAY_TOKEN", "CF_AIG_TOKEN"]
FILE_KEYS = [
    "accountId",
    "account_id",
    "gatewayId",
    "gatewayName",
    "gateway_id",
    "baseUrl",
    "base_url",
    "other",
]
CONFIG_TEXT = [
    "acct",
    "my-gw",
    "default",
    "a" * 64,
    "a" * 65,
    "http://127.0.0.1:8787",
    "https://gateway.ai.cloudflare.com/v1/acct/gw/compat",
    "http://h/v1/a/b/openai/chat/completions",
    "http://h/v1/a/b/custom-x?y/chat",
    "ftp://x",
    "http://",
    "http://h\r\nX: y",
    "http://h/p?q#f",
    "http://h:99999",
    "http://[::1]:1/",
    "http://h/ /x",
    " acct ",
    "acct\n",
    "tök",
    "",
]
SECRET = "SeCrEt"
"""Every generated token carries it, and nothing else does: it must never show in an error."""
BROKEN_FILES = ["", "{", "[]", "null", "1", '"acct"', "\ufeff{}", '{"accountId": "a"', "\0", "{}"]


def random_config_text(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.4:
        return rng.choice(CONFIG_TEXT)
    if pick < 0.6:
        return "http://127.0.0.1:1/" + random_text(rng)
    return random_text(rng)


def random_token(rng: random.Random) -> str:
    return rng.choice(["", "t", " ", "\n", "é"]) + SECRET + random_text(rng)


@CASES
@given(seed=SEEDS)
def test_config_resolution(seed: int, tmp_path_factory: Any) -> None:
    rng = random.Random(seed)
    environ = {n: random_config_text(rng) for n in rng.sample(ENV_NAMES, rng.randint(0, 3))}
    environ.update({n: random_token(rng) for n in rng.sample(TOKEN_ENV_NAMES, rng.randint(0, 1))})
    args = {
        n: random_config_text(rng)
        for n in rng.sample(["account_id", "gateway_id", "base_url"], rng.randint(0, 2))
    }
    if rng.random() < 0.3:
        args["token"] = random_token(rng)
    path = Path(tmp_path_factory.getbasetemp()) / "cfg.json"
    file_body: str | None = None
    if rng.random() < 0.15:
        file_body = rng.choice(BROKEN_FILES)
    elif rng.random() < 0.7:
        data: dict[str, Any] = {
            k: random_config_text(rng) for k in rng.sample(FILE_KEYS, rng.randint(0, 3))
        }
        if rng.random() < 0.3:
            data["token"] = random_token(rng)
        if rng.random() < 0.1:
            data[rng.choice(FILE_KEYS)] = rng.choice([1, None, True, ["x"]])
        file_body = json.dumps(data, ensure_ascii=rng.random() < 0.5)
    note(f"environ={environ!r} args={args!r} file={file_body!r}")
    if file_body is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(file_body, encoding="utf-8")
        path.chmod(0o600)
    try:
        config = GatewayConfig.resolve(**args, environ=environ, config_file=path)
    except ConfigError as exc:
        text = str(exc)
        assert any(
            word in text
            for word in (
                "account",
                "gateway_id",
                "token",
                "base_url",
                "config file",
                str(path),
            )
        ), text
        assert SECRET not in text, text  # a rejected token is never echoed back
        return
    # Accepted: every URL built from it is a clean http(s) URL on the given host.
    url = httpx.URL(config.gateway_url)
    assert url.scheme in ("http", "https") and url.host
    assert config.gateway_url.isascii() and config.gateway_url.isprintable(), config.gateway_url
    assert not url.query and not url.fragment, config.gateway_url
    assert url.path.endswith(f"/v1/{config.account_id}/{config.gateway_id}"), config.gateway_url
    for value in config.auth_headers().values():
        assert value.isascii() and value.isprintable() and SECRET in value
    assert SECRET not in repr(config) and SECRET not in str(config)
    route = build_route(config, "openai/gpt-4o-mini")
    assert httpx.URL(route.url).path.endswith("/compat/chat/completions")

"""The README's tables list the whole surface: every option, metadata key, error class and code.

Each fact is read from the package (the model's fields, the exception classes, the error
codes), so a field or code added without its README row fails here.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

import pytest

import langchain_cf_gateway
from langchain_cf_gateway.core import GatewayInfo, GatewayOptions
from langchain_cf_gateway.core.protocol import ErrorCode, Header

README = Path(__file__).resolve().parents[2] / "README.md"


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def rows(title: str) -> list[list[str]]:
    """The cells of each Markdown table row of the section."""
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section(title).splitlines()
        if line.startswith("|") and not line.startswith("|---")
    ]


def row_naming(title: str, name: str) -> list[str]:
    found = [row for row in rows(title) if f"`{name}`" in row[0]]
    assert found, f"README '## {title}' has no row for `{name}`"
    return found[0]


# ------------------------------------------------------------------------- options

_SAMPLES: dict[Any, list[Any]] = {
    bool: [True],
    int: [1, 60],
    str: ["x"],
    list: [["openai"]],
    dict: [{"total_cost": 1.0}],
}


def header_of_option(name: str) -> str:
    """The one header the option sends, found by sending a sample value of its type."""
    annotation = GatewayOptions.model_fields[name].annotation
    (kind,) = (a for a in typing.get_args(annotation) if a is not type(None))
    origin = typing.get_origin(kind)
    samples = typing.get_args(kind) if origin is typing.Literal else _SAMPLES[origin or kind]
    for sample in samples:
        try:
            headers = GatewayOptions(**{name: sample}).to_headers()
        except ValueError:
            continue
        (header,) = headers
        return header
    raise AssertionError(f"no sample value for {name}")


@pytest.mark.parametrize("name", list(GatewayOptions.model_fields))
def test_gateway_options_table_lists_every_field_with_its_header(name: str) -> None:
    row = row_naming("Gateway options", name)
    assert f"`{header_of_option(name)}`" in row[1]


# ------------------------------------------------------------------------- metadata


def header_of_info(key: str) -> str:
    """The response header `GatewayInfo.from_headers` reads into `key`."""
    names = [v for k, v in vars(Header).items() if k.isupper() and isinstance(v, str)]
    for header in names:
        for value in ("1", "HIT"):
            if GatewayInfo.from_headers({header: value}).as_dict()[key] is not None:
                return header
    raise AssertionError(f"no header fills {key}")


@pytest.mark.parametrize("key", list(GatewayInfo._fields))
def test_response_metadata_table_lists_every_key_with_its_header(key: str) -> None:
    row = row_naming("Response metadata", key)
    assert f"`{header_of_info(key)}`" in row[1]


# ------------------------------------------------------------------------- errors

ERROR_CLASSES = [
    name
    for name in langchain_cf_gateway.__all__
    if isinstance(getattr(langchain_cf_gateway, name), type)
    and issubclass(getattr(langchain_cf_gateway, name), Exception)
]


def test_there_are_error_classes_to_check() -> None:
    assert {"GatewayError", "GatewayInputError", "ModelNotFoundError"} <= set(ERROR_CLASSES)


@pytest.mark.parametrize("name", ERROR_CLASSES)
def test_errors_section_lists_every_exported_error_class(name: str) -> None:
    assert re.search(rf"\b{name}\b", section("Errors")), f"README '## Errors' lacks {name}"


def codes_in(text: str) -> set[int]:
    """The four-digit codes a text names, a range such as `3003-3042` covering its span."""
    found = {int(code) for code in re.findall(r"(?<![\d.])\d{4}(?![\d.])", text)}
    for low, high in re.findall(r"\b(\d{4})\s*[-\u2013]\s*(\d{4})\b", text):
        found |= set(range(int(low), int(high) + 1))
    return found


@pytest.mark.parametrize("code", [int(c) for c in ErrorCode])
def test_errors_section_lists_every_error_code(code: int) -> None:
    assert code in codes_in(section("Errors")), f"README '## Errors' lacks code {code}"

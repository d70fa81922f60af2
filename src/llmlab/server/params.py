"""Reading a JSON request body the way OpenAI validates it: unknown parameters,
wrong types and out-of-range values are 400s whose messages name the parameter."""

from __future__ import annotations

from typing import Any

from .errors import APIError, bad


class Body:
    def __init__(self, data: Any, known: set[str], responses_style: bool = False):
        if not isinstance(data, dict):
            raise bad("The request body must be a JSON object.", None, "invalid_json")
        for key in data:
            if key not in known:
                # The two endpoint families word this differently at OpenAI; keep each one's wording.
                if responses_style:
                    raise bad(f"Unknown parameter: '{key}'.", key, "unknown_parameter")
                raise bad(f"Unrecognized request argument supplied: {key}", key, "unknown_parameter")
        self.data = data

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def get(self, name: str, default: Any = None) -> Any:
        value = self.data.get(name)
        return default if value is None else value

    def required(self, name: str) -> Any:
        if name not in self.data or self.data[name] is None:
            raise bad(f"Missing required parameter: '{name}'.", name, "missing_required_parameter")
        return self.data[name]

    def number(self, name: str, default: float | None, lo: float | None = None, hi: float | None = None):
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _wrong_type(name, "a decimal", value)
        _check_range(name, value, lo, hi, "decimal")
        return float(value)

    def integer(self, name: str, default: int | None, lo: int | None = None, hi: int | None = None):
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong_type(name, "an integer", value)
        _check_range(name, value, lo, hi, "integer")
        return value

    def boolean(self, name: str, default: bool | None) -> bool | None:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise _wrong_type(name, "a boolean", value)
        return value

    def string(self, name: str, default: str | None = None) -> str | None:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, str):
            raise _wrong_type(name, "a string", value)
        return value

    def obj(self, name: str) -> dict | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _wrong_type(name, "an object", value)
        return value


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a decimal", bool: "a boolean", list: "an array",
               dict: "an object"}


def _wrong_type(name: str, expected: str, value: Any) -> APIError:
    got = _TYPE_NAMES.get(type(value), type(value).__name__)
    return bad(f"Invalid type for '{name}': expected {expected}, but got {got} instead.", name, "invalid_type")


def _check_range(name: str, value: float, lo: float | None, hi: float | None, kind: str) -> None:
    if lo is not None and value < lo:
        raise bad(f"Invalid '{name}': {kind} below minimum value. Expected a value >= {lo:g}, but got {value:g} "
                  "instead.", name, f"{kind}_below_min_value")
    if hi is not None and value > hi:
        raise bad(f"Invalid '{name}': {kind} above maximum value. Expected a value <= {hi:g}, but got {value:g} "
                  "instead.", name, f"{kind}_above_max_value")


def stop_list(value: Any, param: str = "stop") -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        if len(value) > 4:
            raise bad(f"Invalid '{param}': array too long. Expected an array with maximum length 4, but got an "
                      f"array with length {len(value)} instead.", param, "array_above_max_length")
        return [s for s in value if s]
    raise bad(f"Invalid type for '{param}': expected a string or an array of strings.", param, "invalid_type")

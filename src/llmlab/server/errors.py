"""Errors in OpenAI's shape: {"error": {"message", "type", "param", "code"}} with
the status OpenAI would use, so SDK exception classes and lessons match."""

from __future__ import annotations

from typing import Any


class APIError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 type: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.type = status, message, param, code, type

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def bad(message: str, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(400, message, param, code)


def unknown_model(model: Any, serves: str) -> APIError:
    return APIError(404, f"The model '{model}' does not exist or you do not have access to it. "
                         f"This server serves '{serves}'.", "model", "model_not_found")


def context_exceeded(n_ctx: int, prompt: int, completion: int | None, what: str = "messages") -> APIError:
    if completion:
        detail = (f"However, you requested {prompt + completion} tokens ({prompt} in the {what}, {completion} "
                  f"in the completion). Please reduce the length of the {what} or completion.")
    else:
        detail = f"However, your {what} resulted in {prompt} tokens. Please reduce the length of the {what}."
    return APIError(400, f"This model's maximum context length is {n_ctx} tokens. {detail}", what,
                    "context_length_exceeded")

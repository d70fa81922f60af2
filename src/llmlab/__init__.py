"""LLM API Lab: a local-first kit for learning the OpenAI-style LLM APIs.

    import llmlab
    lab = llmlab.start("01_chat_completions")
    lab.client.chat.completions.create(model=lab.models.chat, messages=[...])

The package, room by room:

    session.py, backends.py   start(): the backend, the client, the models by role
    cassettes/                recorded HTTP: scrubbing, matching, replay, recording
    catalogue.py, tokens.py, costs.py, resilience.py, providers.py
                              what lessons import: models and prices, tokens, spend,
                              retries and fallback, other providers' shapes
    quiz/                     the question bank, grading, progress, the widgets
    checks/                   the labs' checkers (labs.py cuts labs from solutions/)
    errors.py                 LlmlabError, the one base, and the fixes for SDK errors
    cli.py, doctor.py, notebooks.py, record.py, toc.py, config.py
                              the `llmlab` command and what it works on
    ollama_models.py          Ollama's installed models and pulls (the `ollama` client)
    server/, local_server.py  the kit's own OpenAI-compatible server
    classroom/                for instructors: agendas, slides, load test, class report
    maintainer/               for the kit's keepers: benchmark, lock drift, test plumbing
"""

from . import quiz
from .backends import CAPABILITIES, Models

__version__ = "0.1.0"
__all__ = ["CAPABILITIES", "Lab", "Models", "__version__", "quiz", "start"]


def __getattr__(name: str):
    # The session module imports the OpenAI SDK (about a second); load it when a
    # notebook calls start(), not for `llmlab --help` or a terminal quiz.
    if name in ("start", "Lab"):
        from . import session

        return getattr(session, name)
    raise AttributeError(f"module 'llmlab' has no attribute {name!r}")

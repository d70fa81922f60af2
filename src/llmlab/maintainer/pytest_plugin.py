"""Loaded by the test suite's addopts (`-p llmlab.maintainer.pytest_plugin`) before any
installed plugin, so it runs ahead of nbval importing nbformat and jsonschema.

jsonschema imports rfc3987-syntax when it is installed (Jupyter's
jsonschema[format-nongpl] brings it), and that compiles a Lark grammar at
import: 1.5-3 s in the controller and in every xdist worker. Nothing in the
suite checks the "iri" formats it serves; a None entry makes that import fail
fast and jsonschema carries on without them."""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # None: "import fails", by design

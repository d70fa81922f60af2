"""Writing a cassette while a notebook runs live: vcrpy records every request and
response (scrubbed, see scrub.py), and the file is saved after each cell. vcrpy is
imported only here, so replay never pays for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .format import OpenCassette
from .matching import MATCH_ON, json_body_matcher
from .scrub import SECRET_HEADERS, scrub_request, scrub_response


def make_vcr(cassette_dir: Path) -> Any:
    import vcr

    v = vcr.VCR(
        cassette_library_dir=str(cassette_dir),
        serializer="yaml",
        decode_compressed_response=True,
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        # Hosts and headers vary between machines; the model name is in the body.
        match_on=MATCH_ON,
        filter_headers=list(SECRET_HEADERS),
    )
    v.register_matcher("json_body", json_body_matcher)
    return v


class RecordingSession(OpenCassette):
    """A cassette being written by vcrpy, for the life of the kernel."""

    mode = "record"

    def __init__(self, notebook: str, cassette_dir: Path):
        super().__init__(notebook, cassette_dir)
        self.stream_timings: list[dict] = []
        self._cm = make_vcr(cassette_dir).use_cassette(self.path.name, record_mode="all",
                                                       allow_playback_repeats=False)
        self.cassette = self._cm.__enter__()
        self._metadata = self.cassette._metadata
        self._open = True

    def set_metadata(self, key: str, value: Any) -> None:
        self._metadata[key] = value
        self.cassette.dirty = True

    def note_stream_timing(self, chunks: list[list[float]]) -> None:
        """Chunk timings ([ms since request, bytes]) of the stream vcrpy just appended."""
        self.stream_timings.append({"interaction": len(self.cassette.data) - 1, "chunks": chunks})

    def save(self) -> None:
        """Write the cassette now. Called after every cell while recording,
        because nbval kills kernels without running atexit."""
        if self._open:
            if self.stream_timings:
                self.cassette._metadata["stream_timing"] = self.stream_timings
            self.cassette._save(force=True)

    def close(self) -> None:
        if self._open:
            self.save()
            self._open = False
            self._cm.__exit__(None, None, None)

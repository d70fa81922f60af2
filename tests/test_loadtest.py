"""The load test's bookkeeping with a fake sender: no server, no network, fast."""

import math
import threading
import time

from llmlab.classroom import loadtest as lt


def test_bodies_come_from_notebook_01_with_max_completion_tokens_capped():
    bodies = lt.notebook_requests(max_tokens=16)
    assert len(bodies) >= 3
    assert all(b["model"] and b["messages"] and b["max_completion_tokens"] <= 16 for b in bodies)
    assert not any("max_tokens" in b for b in bodies)


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert lt.percentile(values, 50) == 50.0
    assert lt.percentile(values, 95) == 95.0
    assert lt.percentile([3.0], 95) == 3.0
    assert math.isnan(lt.percentile([], 50))


def test_a_level_counts_latencies_errors_and_throughput():
    seen, lock = [], threading.Lock()

    def fake_send(body, timeout):
        with lock:
            seen.append(body["n"])
            count = len(seen)
        time.sleep(0.01)
        if count % 5 == 0:
            raise RuntimeError("HTTP 503")

    bodies = [{"n": 0}, {"n": 1}]
    result = lt.run_level(fake_send, bodies, users=4, requests_per_user=5, deadline=time.monotonic() + 30)
    assert result.planned == 20 and len(seen) == 20
    assert result.errors == 4 and result.ok == 16 and result.not_sent == 0
    assert sorted(set(seen)) == [0, 1]  # every learner walks the notebook's sequence
    assert 0.01 <= result.p50 <= result.p95 < 1.0
    assert result.throughput == result.ok / result.wall_s


def test_the_deadline_stops_the_run_by_itself():
    def slow_send(body, timeout):
        time.sleep(min(0.2, timeout))

    t0 = time.monotonic()
    result = lt.run_level(slow_send, [{}], users=3, requests_per_user=50, deadline=time.monotonic() + 0.5)
    assert time.monotonic() - t0 < 2.0
    assert result.not_sent > 0 and result.ok + result.errors + result.not_sent == result.planned


def test_report_table_plot_and_sizing(tmp_path):
    fast = lt.LevelResult(users=10, planned=40, latencies=[0.2] * 40, wall_s=2.0)
    slow = lt.LevelResult(users=50, planned=200, latencies=[1.0] * 190, errors=10, wall_s=10.0)
    lt.write_report([fast, slow], tmp_path / "loadtest.md", tmp_path / "loadtest.png", base_url="http://x/v1",
                    server="fake", requests_per_user=4, max_tokens=16, n_bodies=5, context="test")
    text = (tmp_path / "loadtest.md").read_text()
    assert "| 10 | 40 | 40 | 0 | 0 | 2.0 | 20.00 | 0.20 | 0.20 |" in text
    assert "| 50 | 200 | 190 | 10 | 0 | 10.0 | 19.00 | 1.00 | 1.00 |" in text
    assert "Peak throughput was **20.00 req/s**" in text
    assert (tmp_path / "loadtest.png").stat().st_size > 1000

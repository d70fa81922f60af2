"""`llmlab doctor`: one OK/FAIL line per item, exit status by what the chosen mode needs."""

from typer.testing import CliRunner

from llmlab.cli import app

runner = CliRunner()


def test_doctor_in_replay_passes_offline():
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    lines = [l for l in result.output.splitlines() if l[:4] in ("OK  ", "FAIL", "WARN")]
    assert any(l.startswith("OK   backend: replay") for l in lines)
    assert any(l.startswith("OK   tiktoken offline") for l in lines)
    assert any(l.startswith("OK   cassettes") for l in lines)


def test_doctor_against_a_stopped_server_fails_with_the_fix():
    result = runner.invoke(app, ["doctor", "--backend", "http://127.0.0.1:8799/v1"])
    assert result.exit_code == 1
    assert "FAIL url server: http://127.0.0.1:8799/v1 unreachable" in result.output
    assert "fix:" in result.output


def test_doctor_openai_without_key_never_prints_a_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = runner.invoke(app, ["doctor", "--backend", "openai"])
    assert result.exit_code == 1 and "FAIL key OPENAI_API_KEY: missing" in result.output
    monkeypatch.setenv("OPENAI_API_KEY", "sk-doctor-" + "q" * 24)
    result = runner.invoke(app, ["doctor", "--backend", "openai"])
    assert "OK   key OPENAI_API_KEY: present (not shown)" in result.output
    assert "qqqq" not in result.output


def test_doctor_broken_config_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMLAB_HOME", str(tmp_path))
    (tmp_path / "config.toml").write_text("backend = \n")
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1 and "config.toml" in result.output

from __future__ import annotations

from pathlib import Path

import pytest

from benchagent.config import ConfigError, load_judge_weights, load_settings


def test_flags_override_the_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "benchagent.toml"
    cfg.write_text(
        '[build]\nsize = 30\nseed = 3\npools = ["pool"]\nmodel = "fast"\n'
        '[models.fast]\nprovider = "openai"\nmodel = "qwen"\nbase_url = "http://127.0.0.1:1/v1"\n'
        '[roles]\njudge = "mock"\n')
    settings = load_settings(cfg, {"seed": 9, "size": None})
    assert settings.seed == 9 and settings.size == 30
    assert settings.pools == [(tmp_path / "pool").resolve()]
    design = settings.model_for("design")
    assert design is not None and design.model == "qwen"
    judge = settings.model_for("judge")
    assert judge is not None and judge.provider == "mock"


def test_no_model_means_rules() -> None:
    assert load_settings(None, {}).model_for("design") is None


def test_bad_spec_and_bad_file_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown model spec"):
        load_settings(None, {"model": "gpt4"}).model_for("design")
    bad = tmp_path / "bad.toml"
    bad.write_text("[build\nsize=")
    with pytest.raises(ConfigError, match="cannot read config"):
        load_settings(bad, {})
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml", {})
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[build]\nsize = -3\n")
    with pytest.raises(ConfigError, match="size"):
        load_settings(wrong, {})


def test_api_key_is_never_in_the_public_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-123")
    settings = load_settings(None, {"model": "openai:gpt-x"})
    assert "sk-secret-123" not in str(settings.public())


def test_a_wrong_setting_names_the_file_it_came_from(tmp_path: Path) -> None:
    path = tmp_path / "benchagent.toml"
    path.write_text("[build]\nseed = \"seven\"\nconcurrency = 0\n")
    with pytest.raises(ConfigError, match=f"invalid setting seed in {path}"):
        load_settings(path, {})
    with pytest.raises(ConfigError, match="invalid setting concurrency: ") as flag:
        load_settings(path, {"seed": 1, "concurrency": 0})
    assert str(path) not in str(flag.value)  # that one came from the caller, not the file
    path.write_text("roles = [1]\n")
    with pytest.raises(ConfigError, match=r"\[roles\] must be a table"):
        load_settings(path, {})


def test_judge_weights_come_from_their_own_table(tmp_path: Path) -> None:
    cfg = tmp_path / "benchagent.toml"
    cfg.write_text("[build]\nsize = 30\n[judge]\nweights = {UIA = 0.5, tsd = 1}\n")
    assert load_judge_weights(cfg) == {"UIA": 0.5, "tsd": 1.0}
    assert load_settings(cfg, {}).size == 30  # the build settings do not see the table
    for bad in ('[judge]\nweights = {UIA = "high"}\n', "[judge]\nweights = 3\n"):
        cfg.write_text(bad)
        with pytest.raises(ConfigError, match=r"judge\.weights must be a table of numbers"):
            load_judge_weights(cfg)
    with pytest.raises(ConfigError, match="not found"):
        load_judge_weights(tmp_path / "missing.toml")

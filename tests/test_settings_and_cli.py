"""Settings are documented and overridable; the CLI fails with one line, never a fake result."""

from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.settings import Settings, env_name, load_settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_documents_every_setting():
    text = README.read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`{name}`" not in text or env_name(name) not in text]
    assert not missing, f"README does not document: {missing}"


def test_environment_overrides_default(monkeypatch):
    monkeypatch.setenv("TTHC_EARLY_RULE", "working_hours")
    monkeypatch.setenv("TTHC_WARNING_WITHIN_HOURS", "16")
    settings = load_settings()
    assert settings.early_rule == "working_hours"
    assert settings.warning_within_hours == 16.0


def test_flag_overrides_environment(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TTHC_PERIOD_SCHEME", "official")
    assert main(["settings", "--set", "period_scheme=calendar", "--warehouse", str(tmp_path / "w.duckdb")]) == 0
    out = capsys.readouterr().out
    assert "period_scheme = calendar" in out
    assert f"warehouse = {tmp_path / 'w.duckdb'}" in out


def test_unknown_setting_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["settings", "--set", "no_such_setting=1"])
    assert exit_info.value.code != 0


def test_bad_setting_value_is_one_line(capsys):
    code = main(["settings", "--set", "early_rule=sometimes"])
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1 and err.startswith("tthc settings:")


def test_kpi_without_warehouse_fails_with_one_line(tmp_path, capsys):
    code = main(["kpi", "--period", "2025-Q1", "--warehouse", str(tmp_path / "none.duckdb")])
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1


def test_scorecard_grains_is_a_list_of_known_grains():
    from pipeline.settings import load_settings

    assert load_settings().scorecard_grain_list == ["quarter", "half", "year"]
    assert load_settings(scorecard_grains=" year, month ").scorecard_grain_list == ["month", "year"]
    with pytest.raises(ValueError, match="quarterly is not one of month, quarter, half, year"):
        load_settings(scorecard_grains="quarter,quarterly")


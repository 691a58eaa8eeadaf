"""The `lakeforge` command: every subcommand has help and spells its config option --config; runs and
tables report what a pipeline did; errors a user can fix are one line with exit status 2."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from lakeforge.cli import build_parser, main
from lakeforge.commands import command_parsers

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", ["generate", "ingest", "demo", "runs", "tables", "notebook", "train", "predict"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_code:
        main([command, "--help"])
    assert exit_code.value.code == 0
    assert "usage: lakeforge " + command in capsys.readouterr().out


def test_unknown_command_is_an_error(capsys):
    with pytest.raises(SystemExit) as exit_code:
        build_parser().parse_args(["explode"])
    assert exit_code.value.code == 2
    assert "invalid choice: 'explode'" in capsys.readouterr().err


def test_ingest_then_runs_and_tables_as_json(spark, tmp_path, capsys):
    (tmp_path / "env").mkdir()
    overlay = {
        "platform": {
            "spark": {"jars_dir": str(ROOT / ".work/jars")},
            "storage": {"root": str(tmp_path / "lake"), "landing": str(tmp_path / "in")},
        }
    }
    (tmp_path / "env/local.yml").write_text(yaml.safe_dump(overlay))
    pipeline = {
        "name": "cli_orders",
        "sources": {"orders": {"kind": "files", "path": "orders", "format": "jsonl", "schema": {"id": "string"}}},
        "silver": {"orders": {"source": "orders", "keys": ["id"], "columns": {"id": {"type": "int"}}}},
    }
    conf = tmp_path / "orders.yml"
    conf.write_text(yaml.safe_dump(pipeline))
    (tmp_path / "in/orders").mkdir(parents=True)
    (tmp_path / "in/orders/a.jsonl").write_text('{"id": "1"}\n{"id": "x"}\n{"id": "1"}\n')

    assert main(["ingest", "--conf", str(conf)]) == 0
    capsys.readouterr()
    assert main(["runs", "--json", "--conf", str(conf)]) == 0
    rows = {(row["source"], row["layer"]): row for row in json.loads(capsys.readouterr().out)}
    silver = rows[("orders", "silver")]
    assert (silver["rows_read"], silver["rows_written"], silver["rows_quarantined"], silver["rows_deduplicated"]) == (3, 1, 1, 1)
    assert silver["status"] == "succeeded"

    assert main(["tables", "--json", "--conf", str(conf)]) == 0
    tables = {(t["layer"], t["table"]): t["rows"] for t in json.loads(capsys.readouterr().out)}
    assert tables[("bronze", "orders")] == 3
    assert tables[("silver", "orders")] == 1
    assert tables[("quarantine", "orders")] == 1
    assert tables[("_system", "audit")] == 4  # the run started, bronze and silver committed, the run ended


def test_every_config_option_is_spelled_config_with_the_conf_alias():
    config_options = [action.option_strings for _, parser in command_parsers(build_parser())
                      for action in parser._actions if {"--config", "--conf"} & set(action.option_strings)]
    assert len(config_options) >= 15  # every command that loads a config
    assert all(options == ["--config", "--conf"] for options in config_options), config_options


def lakeforge(*args, env=None):
    return subprocess.run([sys.executable, "-m", "lakeforge.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def assert_one_line_error(result, *expected):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0]


def test_a_missing_config_file_is_one_line_with_status_2():
    result = lakeforge("runs", "--config", "conf/no-such-file.yml")
    assert_one_line_error(result, "lakeforge runs: config file not found: conf/no-such-file.yml", "--debug")


def test_debug_shows_the_traceback():
    result = lakeforge("--debug", "runs", "--config", "conf/no-such-file.yml")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "ConfigError: config file not found" in result.stderr


def test_a_missing_secret_names_the_variable():
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LAKEFORGE_KAFKA_", "LAKEFORGE_MQTT_"))}
    result = lakeforge("bridge", env=env)
    assert_one_line_error(result, "lakeforge bridge: environment variable LAKEFORGE_KAFKA_USER is not set", "scripts/services/env.sh")


def test_a_config_that_does_not_validate_names_the_key(tmp_path, capsys):
    (tmp_path / "orders.yml").write_text("name: orders\nsources: {}\nsilver: {}\nsilvr: {}\n")
    assert main(["ingest", "--config", str(tmp_path / "orders.yml")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"lakeforge ingest: {tmp_path / 'orders.yml'}")
    assert "silvr: Extra inputs are not permitted" in error and "\n" not in error


def test_an_own_config_outside_conf_needs_no_overlay_beside_it(tmp_path, monkeypatch, capsys):
    # tmp_path has no env/ folder: the checkout's conf/env/local.yml supplies the platform settings.
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKEFORGE_WORK", str(tmp_path / "work"))
    monkeypatch.delenv("LAKEFORGE_ENV", raising=False)
    own = tmp_path / "elsewhere/my-demo.yml"
    own.parent.mkdir()
    own.write_text((ROOT / "conf/customer360.yml").read_text())
    assert main(["generate", "demo", "--config", str(own), "--rows", "20", "--seed", "3"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    landed = sorted(path.name for path in (tmp_path / "work/landing").iterdir())
    assert landed == ["customers", "usage"]
    assert manifest  # what generate printed is the manifest of those files


def test_a_label_column_not_in_the_data_names_the_columns(spark, tmp_path, capsys):
    data = tmp_path / "telco.csv"
    pd.DataFrame({"tenure": [1, 2, 3, 4], "Churn": ["Yes", "No", "No", "Yes"]}).to_csv(data, index=False)
    assert main(["train", "churn", "--data", str(data), "--label", "churned"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("lakeforge train: label column 'churned' not in the data; columns are ['tenure', 'Churn']")
    assert "--label" in error and "\n" not in error

"""The `lakeforge` command: every subcommand has help; runs and tables report what a pipeline did."""

import json
from pathlib import Path

import pytest
import yaml

from lakeforge.cli import build_parser, main

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
    assert tables[("_system", "audit")] == 2

"""notebooks/01_ingestion.py runs top to bottom on its own demo data and ends with a reconciled run."""

from pathlib import Path

import psycopg2
import yaml

from lakeforge.notebooks import notebook_cells, run_notebook

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks/01_ingestion.py"


def test_notebook_cells_skip_markdown():
    cells = notebook_cells(NOTEBOOK)
    assert len(cells) == 5
    assert not any("MAGIC" in cell for cell in cells)


def test_ingestion_notebook_runs_top_to_bottom(spark, pg_conninfo, tmp_path, monkeypatch):
    with psycopg2.connect(pg_conninfo) as conn, conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS lakeforge_notebook CASCADE; CREATE SCHEMA lakeforge_notebook")
    pipeline = yaml.safe_load((ROOT / "conf/customer360.yml").read_text())
    pipeline["sources"]["billing"]["table"] = "lakeforge_notebook.billing"
    pipeline["sources"]["tickets"]["url"] = "http://127.0.0.1:18765/v1/tickets"
    (tmp_path / "conf/env").mkdir(parents=True)
    (tmp_path / "conf/customer360.yml").write_text(yaml.safe_dump(pipeline, sort_keys=False))  # schema order is column order
    overlay = yaml.safe_load((ROOT / "conf/env/local.yml").read_text())
    overlay["platform"]["spark"]["jars_dir"] = str(ROOT / ".work/jars")
    overlay["platform"]["storage"] = {"root": str(tmp_path / "lake"), "landing": str(tmp_path / "landing")}
    (tmp_path / "conf/env/local.yml").write_text(yaml.safe_dump(overlay))
    monkeypatch.setenv("LAKEFORGE_CONF", str(tmp_path / "conf/customer360.yml"))
    monkeypatch.setenv("LAKEFORGE_WORK", str(tmp_path))
    monkeypatch.setenv("LAKEFORGE_DEMO_CUSTOMERS", "200")

    namespace = run_notebook(NOTEBOOK)

    run, manifest = namespace["runner"].run, namespace["manifest"]
    assert all(counts.balanced for counts in run.layers)
    assert namespace["gold"].count() == manifest["expected_gold_rows"]
    assert run.layer("customers", "silver").quarantined == sum(manifest["sources"]["customers"]["expected_quarantined"].values())

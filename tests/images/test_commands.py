"""`lakeforge generate|ingest images`: the shared verbs hand `images` to the image commands."""

from __future__ import annotations

import json

import pytest

from lakeforge.cli import main


def test_generate_and_ingest_images_are_idempotent(ingested, images_conf, capsys):
    assert main(["generate", "images", "--conf", str(images_conf), "--env", "test"]) == 0
    assert json.loads(capsys.readouterr().out)["written"] == {"target": 0, "source": 0}
    assert main(["ingest", "images", "--conf", str(images_conf), "--env", "test"]) == 0
    printed = capsys.readouterr().out
    assert "images" in printed and "silver" in printed


def test_image_options_need_the_images_kind(capsys):
    with pytest.raises(SystemExit) as exit_code:
        main(["ingest", "--path", "somewhere"])
    assert exit_code.value.code == 2
    error = capsys.readouterr().err
    assert "lakeforge ingest: error: argument KIND: invalid choice: 'somewhere' (choose from " in error and "'images'" in error

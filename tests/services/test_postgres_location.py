"""scripts/services/postgres.sh keeps the database where its server's user can reach it: a checkout
inside a private (mode 700) folder gets its own cluster under /var/tmp, keyed by the work folder."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts/services/postgres.sh"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres(action: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), action], env=env, capture_output=True, text=True, timeout=300)


def credentials(work: Path) -> dict[str, str]:
    line = (work / "services/postgres/credentials.env").read_text().removeprefix("export ").split()
    return dict(pair.split("=", 1) for pair in line)


def test_a_checkout_in_a_private_folder_gets_a_reachable_database(tmp_path):
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    work = private / "clone/.work"
    env = {**os.environ, "LAKEFORGE_WORK": str(work), "LAKEFORGE_PG_PORT": str(free_port())}
    env.pop("LAKEFORGE_PG_DATA", None)
    # As root the server runs as `postgres`, which cannot enter the private folder; otherwise as us.
    expected = (Path(f"/var/tmp/lakeforge-postgres-{hashlib.sha256(str(work).encode()).hexdigest()[:12]}")
                if os.geteuid() == 0 else work / "services/postgres")
    try:
        started = postgres("up", env)
        assert started.returncode == 0, started.stderr[-2000:]
        assert f"(data {expected}/data," in started.stdout
        login = credentials(work)
        with psycopg2.connect(host="127.0.0.1", port=login["LAKEFORGE_PG_PORT"], user=login["LAKEFORGE_PG_USER"],
                              password=login["LAKEFORGE_PG_PASSWORD"], dbname="lakeforge") as connection:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 6 * 7")
                assert cursor.fetchone() == (42,)
    finally:
        postgres("down", env)
        subprocess.run(["rm", "-rf", str(expected)], check=False)


def test_an_explicit_data_folder_the_server_cannot_reach_is_an_error(tmp_path):
    # The suite runs as root (set-up installs the services with apt-get), so the server is `postgres`.
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    env = {**os.environ, "LAKEFORGE_WORK": str(tmp_path / "work"), "LAKEFORGE_PG_PORT": str(free_port()),
           "LAKEFORGE_PG_DATA": str(private / "pg")}
    result = postgres("up", env)
    assert result.returncode == 1
    assert f"user postgres cannot write {private / 'pg'}/data: its parent folders need o+x; set LAKEFORGE_PG_DATA" in result.stderr

"""environment.yml (for conda users) lists the same packages and lower bounds as pyproject.toml."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)$", spec)
    name = m.group(1).lower().replace("_", "-")
    return name, m.group(3).replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_norm(s) for s in project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted.update(_norm(s) for s in extra)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip_only = [s for d in env["dependencies"] if isinstance(d, dict) for s in d.get("pip", []) if not s.startswith("-e")]
    got = dict(_norm(s) for s in conda + pip_only if not s.startswith(("python", "pip")))
    assert got == wanted
    py = next(d for d in conda if d.startswith("python"))
    assert py.replace("python", "") == project["requires-python"]


def test_console_script_and_src_layout():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["calibrate"] == "calibrate.cli:main"
    assert (ROOT / "src" / "calibrate" / "__init__.py").exists()

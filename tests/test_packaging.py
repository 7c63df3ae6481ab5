"""The distribution exposes one top-level import package, ``wiredesk``, mapped onto the card's folders."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

REPO = Path(__file__).resolve().parent.parent
FOLDERS = ("pipeline", "transforms", "schemas", "seeds")


def _setuptools() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]


def test_every_subpackage_is_listed():
    """A new package folder left out of pyproject.toml would be missing from the wheel."""
    on_disk = {"wiredesk.seeds"} | {
        "wiredesk." + ".".join(init.parent.relative_to(REPO).parts)
        for folder in FOLDERS for init in (REPO / folder).rglob("__init__.py")
    }
    assert set(_setuptools()["packages"]) == on_disk


def test_only_wiredesk_is_claimed():
    config = _setuptools()
    assert {name.split(".")[0] for name in config["packages"]} == {"wiredesk"}
    assert config["package-dir"] == {f"wiredesk.{folder}": folder for folder in FOLDERS}


@pytest.mark.parametrize("generic", FOLDERS)
def test_generic_names_are_not_importable(generic, tmp_path, monkeypatch):
    """Outside the repository (which is not on sys.path), ``import pipeline`` fails."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if Path(p or ".").resolve() != REPO])
    sys.modules.pop(generic, None)
    with pytest.raises(ModuleNotFoundError):
        __import__(generic)


def test_package_modules_come_from_the_card_folders():
    import wiredesk.pipeline
    import wiredesk.transforms

    assert Path(wiredesk.pipeline.__file__).parent == REPO / "pipeline"
    assert Path(wiredesk.transforms.__file__).parent == REPO / "transforms"

"""Packaging hook; everything else is in pyproject.toml.

The YAMLs live in the top-level ``configs/`` (the one source of truth, where new tracker YAMLs are
added). A non-editable install (``pip install .``, a wheel) has no checkout next to it, so
``build_py`` copies them into the package as ``tracker/configs/``; ``tracker.config.find_config_dir``
looks there first. Editable installs read ``configs/`` from the checkout.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CONFIGS = Path(__file__).resolve().parent / "configs"


class BuildPyWithConfigs(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "tracker" / "configs"
        for src in sorted(CONFIGS.rglob("*.yaml")):
            dst = target / src.relative_to(CONFIGS)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


setup(cmdclass={"build_py": BuildPyWithConfigs})

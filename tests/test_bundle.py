"""The desktop bundle, started and checked as a user would (packaging/check.sh), where one has been
built (`make bundle`: about 1.5 minutes, so the suite does not build it)."""

import subprocess

import pytest
from conftest import ROOT

BUNDLE = ROOT / "dist" / "zoetrope" / "zoetrope"


@pytest.mark.slow
@pytest.mark.skipif(not BUNDLE.is_file(), reason="no bundle in dist/ (make bundle)")
def test_the_bundle_opens_renders_trains_and_installs():
    done = subprocess.run(["sh", str(ROOT / "packaging" / "check.sh")], capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bundle OK" in done.stdout

"""The README's Python snippets run as written (in a scratch directory) and print 0 mismatches."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def snippet(heading: str) -> str:
    text = README.read_text()
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.parametrize("heading", ["Python API (Brevitas)", "QKeras"])
def test_readme_snippet_runs(heading, tmp_path):
    code = snippet(heading)
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=900,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert r.returncode == 0, r.stderr[-3000:]
    assert re.search(r"\d+ samples: 0 output mismatches, 0 input-code mismatches", r.stdout), r.stdout


def test_readme_lists_every_config_key():
    """The YAML reference names every field of the config dataclasses."""
    import dataclasses

    from lutnet import config as C
    section = README.read_text().split("\n## YAML configs: every key\n", 1)[1].split("\n## ", 1)[0]
    missing = []
    for cls in (C.ModelConfig, C.LayerConfig, C.DataConfig, C.TrainConfig, C.EncoderConfig, C.HeadConfig,
                C.AugmentConfig, C.DistillConfig):
        for f in dataclasses.fields(cls):
            if f.name not in section:
                missing.append(f"{cls.__name__}.{f.name}")
    assert not missing, f"README's YAML reference lacks {missing}"

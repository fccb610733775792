"""An endpoint worker's memory stays flat: after pixel bombs and frames above 4K it
comes back near where typical frames keep it (it stayed at 2.3 GB after one 8000x5000
JPEG before)."""

from __future__ import annotations

import json

from tests.helpers.processes import run_python, without_datapalooza_settings

SCRIPT = r"""
import io, json
from PIL import Image
from datapalooza.endpoint.handlers import input_fn, model_fn, predict_fn
from datapalooza.sources.synthetic import SyntheticFestivalSource
from datapalooza.images import encode_jpeg

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024

def jpeg(width, height):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 120, 150)).save(buffer, "JPEG", quality=60)
    return buffer.getvalue()

model = model_fn(None, {})
source = SyntheticFestivalSource(stage="main", seed=7, width=1280, height=720)
frames = [encode_jpeg(source.compose(i)[0]) for i in range(3)]
def serve(body):
    predict_fn(input_fn(body, "image/jpeg", "stage=main"), model)
for body in frames * 2:
    serve(body)
typical = rss()
for body in (jpeg(8000, 5000), jpeg(3840, 2160), jpeg(5000, 8000)):
    serve(body)
for body in frames:
    serve(body)
print(json.dumps({"typical": typical, "after": rss()}))
"""


# Not serial (tests/conftest.py): it reads its own process's resident memory, which no
# test beside it changes.
def test_memory_comes_back_after_frames_above_4k():
    result = run_python("-c", SCRIPT, timeout=240, env=without_datapalooza_settings())
    assert result.returncode == 0, result.stderr
    memory = json.loads(result.stdout.strip().splitlines()[-1])
    assert memory["after"] - memory["typical"] < 250, memory

"""Yosys fan-out on Ray: the report equals the thread-pool report (cold caches both), results are
cached on the driver, and tables that fail twice are reported one by one."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

ray = pytest.importorskip("ray")
if shutil.which("yosys") is None:
    pytest.skip("yosys not installed (make test installs it)", allow_module_level=True)

from lutnet.errors import SynthesisError  # noqa: E402
from lutnet.rtl.report import build_report  # noqa: E402
from lutnet.rtl.synth import synth_tables  # noqa: E402
from lutnet.testing import random_network_ir  # noqa: E402


@pytest.fixture
def local_ray():
    ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def _strip(rep):
    rep = dict(rep, seconds=None)
    rep["layers"] = [{k: v for k, v in L.items() if k != "cached_tables"} for L in rep["layers"]]
    return rep


def test_ray_report_equals_thread_pool_report(tmp_path, local_ray):
    # 6-bit tables (batched) and two 8-bit tables (one Yosys run each)
    ir = random_network_ir(3, n_inputs=8, widths=(5, 2), fan_in=(3, 4), bits=2)
    threads = build_report(ir, method="yosys-tables", jobs=2, cache_dir=tmp_path / "a", progress=False)
    on_ray = build_report(ir, method="yosys-tables", jobs=2, cache_dir=tmp_path / "b", progress=False, executor="ray")
    assert _strip(on_ray) == _strip(threads)
    assert threads["total"]["luts"] > 0
    # results came back to the driver and were cached there: a second Ray run synthesizes nothing
    assert len(list((tmp_path / "b").glob("*.json"))) == len(list((tmp_path / "a").glob("*.json")))
    again = build_report(ir, method="yosys-tables", cache_dir=tmp_path / "b", progress=False, executor="ray")
    assert all(L["cached_tables"] == L["unique_tables"] for L in again["layers"] if L.get("unique_tables"))


@pytest.mark.parametrize("executor", ["threads", "ray"])
def test_failing_tables_are_reported_per_table(tmp_path, executor, local_ray):
    rng = np.random.default_rng(1)
    tables = [(rng.integers(0, 4, 256), 8, 2), (rng.integers(0, 2, 512), 9, 1)]
    with pytest.raises(SynthesisError) as e:  # a real Yosys run cannot finish in 1 ms: both tables fail twice
        synth_tables(tables, cache_dir=tmp_path, progress=False, timeout=0.001, executor=executor)
    msg = str(e.value)
    assert msg.startswith("Yosys failed on 2 of 2 tables after a retry: table ")
    assert "(8 address bits, 2 out bits)" in msg and "(9 address bits, 1 out bits)" in msg
    assert msg.endswith("the other tables are cached, so a rerun synthesizes only these")


def test_unknown_executor_is_refused(tmp_path):
    from lutnet.errors import ConfigError
    with pytest.raises(ConfigError, match="synthesis executor must be one of threads, ray, got 'dask'"):
        synth_tables([(np.array([0, 1]), 1, 1)], cache_dir=tmp_path, executor="dask")

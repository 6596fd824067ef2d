"""Design-space sweeps on Ray Tune: ``lutnet sweep SPEC.yaml`` or :func:`sweep`.

Each trial trains a configuration, extracts its tables, checks them bit for bit against the model
on the validation split and estimates its LUTs; the result is a table of trials and the Pareto front
of validation accuracy vs LUTs.  Test accuracy is computed only for the front's points, after the
search.  Ray runs embedded (a local instance sized to the machine) unless ``address`` (or
``RAY_ADDRESS``) names a cluster.  See :mod:`lutnet.sweep.spec` for the spec format."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from ..errors import OutputExistsError
from .engine import SweepError, connect, run_sweep
from .results import collect, evaluate_front, mark_front, pareto_front, write_results
from .spec import SweepSpec, SweepSpecError, load_spec, parse_spec

__all__ = ["SweepError", "SweepResult", "SweepSpec", "SweepSpecError", "connect", "load_spec", "pareto_front",
           "parse_spec", "sweep"]


class SweepResult(dict):
    """``trials`` (rows), ``front`` (rows on the Pareto front, with ``test_acc``), ``paths``,
    ``engine`` (Ray mode, CPUs, start-up seconds) and ``seconds``."""


def sweep(spec, out_dir, *, address: str | None = None, resume: bool = False, force: bool = False,
          verbose: int = 1, callbacks=None) -> SweepResult:
    """Run a sweep (a SweepSpec, a spec file or a bundled spec name) into ``out_dir``."""
    spec = spec if isinstance(spec, SweepSpec) else load_spec(spec)
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()) and not (resume or force):
        raise OutputExistsError(f"{out} exists and is not empty; pass --resume to continue that sweep, --force to "
                                f"start it over, or choose another output directory")
    if force and out.exists() and not resume:
        shutil.rmtree(out)
    t0 = time.perf_counter()
    info = connect(address)
    results = run_sweep(spec, out, address=address, resume=resume, verbose=verbose, callbacks=callbacks)
    rows = collect(results, spec)
    front = mark_front(rows, spec)
    evaluate_front(front, spec, out, yosys=spec.yosys_front)
    info["seconds"] = round(time.perf_counter() - t0, 1)
    paths = write_results(rows, spec, out, info)
    return SweepResult(trials=rows, front=front, paths=paths, engine=info, seconds=info["seconds"])

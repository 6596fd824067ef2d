"""The C simulation under AddressSanitizer and UndefinedBehaviorSanitizer.

The hls4ml backend writes a standalone C simulation testbench (``<project>_test.cpp``, what HLS
tools run as csim) next to the firmware; this builds it as an executable with
``-fsanitize=address,undefined`` (and ``-fno-sanitize-recover`` so that any UB finding aborts),
feeds it our input vectors and the IR's expected outputs, and returns what it printed."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ToolNotFoundError
from ..ir import NetworkIR

SANITIZE_FLAGS = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g"]
# Findings inside the vendored Xilinx ap_types headers (third-party, copied from hls4ml) are
# suppressed: ap_private<W, true, true>::clearUnusedBits() left-shifts negative values (UB in
# C++14, defined in C++20), on every construction of a signed ap_int.  Everything else (lutnet's
# firmware, tables, testbench) must be clean; ``suppress_ap_types=False`` shows the raw findings.
AP_TYPES_SUPPRESSIONS = "shift-base:ap_private.h\nshift-exponent:ap_private.h\nsigned-integer-overflow:ap_private.h\n"


@dataclass
class SanitizedRun:
    returncode: int
    stdout: str
    stderr: str
    outputs: np.ndarray       # what the testbench computed (tb_data/csim_results.log)
    command: list

    @property
    def sanitizer_report(self) -> bool:
        return any(s in self.stderr for s in ("AddressSanitizer", "runtime error:", "LeakSanitizer",
                                              "UndefinedBehaviorSanitizer"))


def build_and_run(ir: NetworkIR, codes, project_dir, *, flags=(), synth_types: bool = False,
                  project: str = "myproject", suppress_ap_types: bool = True) -> SanitizedRun:
    """Write the C++ project of ``ir`` into ``project_dir``, build its testbench with sanitizers
    (plus ``flags``; ``synth_types`` selects the ap_uint synthesis types) and run it on ``codes``."""
    from lutnet import hls_backend
    if shutil.which("g++") is None:
        raise ToolNotFoundError("g++ is not on PATH (Debian/Ubuntu: sudo apt-get install g++)")
    prj = Path(project_dir)
    hls_backend.convert_ir(ir, output_dir=str(prj), project_name=project, output="cpp").write()
    codes = np.asarray(codes, np.int64)
    np.savetxt(prj / "tb_data" / "tb_input_codes.dat", codes, fmt="%d")
    np.savetxt(prj / "tb_data" / "tb_output_codes.dat", ir.evaluate(codes).reshape(len(codes), -1), fmt="%d")
    cmd = ["g++", "-O1", "-std=c++14", *SANITIZE_FLAGS, *flags, *(["-DLUTNET_SYNTH_TYPES"] if synth_types else []),
           "-Ifirmware", "-Ifirmware/ap_types", f"{project}_test.cpp", f"firmware/{project}.cpp", "-o", "tb_asan"]
    b = subprocess.run(cmd, cwd=prj, capture_output=True, text=True)
    if b.returncode != 0:
        raise RuntimeError(f"g++ with sanitizers failed:\n{(b.stdout + b.stderr)[-3000:]}")
    ubsan = "print_stacktrace=1:halt_on_error=1"
    if suppress_ap_types:
        (prj / "ubsan.supp").write_text(AP_TYPES_SUPPRESSIONS)
        ubsan += f":suppressions={(prj / 'ubsan.supp').resolve()}"
    env = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0", "UBSAN_OPTIONS": ubsan, "PATH": "/usr/bin:/bin"}
    r = subprocess.run(["./tb_asan"], cwd=prj, capture_output=True, text=True, env=env)
    log = prj / "tb_data" / "csim_results.log"
    out = np.loadtxt(log, dtype=np.int64, ndmin=2) if log.is_file() and log.stat().st_size else np.zeros((0, 0), np.int64)
    return SanitizedRun(r.returncode, r.stdout, r.stderr, out, cmd)

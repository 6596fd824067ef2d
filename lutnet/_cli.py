"""The one grammar of lutnet's command-line tools (``lutnet``, its RTL commands, and the ``hls4ml``
hook for LUTNet projects).

* Exit status: 0 success, 1 a check found a mismatch (verification, simulation, lint), 2 a user
  error (bad arguments, missing or existing files, unsupported models, missing tools).
* Options: ``-o/--output`` for what a command writes, ``--force`` (only on commands that write),
  ``-q/--quiet`` for no progress output.
* Every :class:`~lutnet.errors.LutnetError` reaches the user as one line,
  ``<prog> <command>: error: <message>``, and no traceback.
* Outputs are checked before any work (:func:`lutnet._files.check_output`)."""
from __future__ import annotations

import sys
import zipfile
from pathlib import Path

from ._files import check_output  # noqa: F401  (the check every writing command makes first)
from .errors import LutnetError

OK, MISMATCH, USER_ERROR = 0, 1, 2

FORCE_RULE = ("a command that writes checks its outputs before any work and refuses an output file "
              "that exists or an output directory that is not empty; --force replaces them")


def add_output(p, *, required=False, help="output file", aliases=()):
    """``-o/--output`` (plus old spellings in ``aliases``, e.g. ``--out``), stored as ``args.output``."""
    p.add_argument("-o", "--output", *aliases, dest="output", required=required, metavar="PATH", help=help)


def add_force(p):
    p.add_argument("--force", action="store_true",
                   help="replace existing outputs (without it, existing outputs are refused before any work)")


def add_quiet(p):
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or progress lines")


def positive_int(s: str) -> int:
    """argparse type: an integer >= 1 (a bad value is a usage error, exit status 2)."""
    return _int_at_least(s, 1)


def count(s: str) -> int:
    """argparse type: an integer >= 0."""
    return _int_at_least(s, 0)


def _int_at_least(s: str, low: int) -> int:
    import argparse
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= {low}; got {s!r}") from None
    if v < low:
        raise argparse.ArgumentTypeError(f"expected an integer >= {low}; got {v}")
    return v


def identifier(s: str) -> str:
    """argparse type: a Verilog/C identifier (module and project names)."""
    import argparse
    if not s.isidentifier() or not s.isascii():
        raise argparse.ArgumentTypeError(f"{s!r} is not a Verilog identifier (letters, digits, _; not starting "
                                         f"with a digit)")
    return s


def one_line(message) -> str:
    """A message on one line: its lines joined with '; '."""
    parts = [s.strip() for s in str(message).splitlines()]
    return "; ".join(s for s in parts if s) or type(message).__name__


def report_error(prog: str, err: BaseException) -> int:
    print(f"{prog}: error: {one_line(err)}", file=sys.stderr)
    return USER_ERROR


def run_command(prog: str, func, args) -> int:
    """Run ``func(args)``; a LutnetError becomes one line on stderr and exit status 2."""
    try:
        rc = func(args)
    except LutnetError as e:
        return report_error(prog, e)
    return int(rc or 0)


def is_checkpoint(path) -> bool:
    """A PyTorch checkpoint file or a Keras checkpoint directory (lutnet.core.checkpoint.sniff)."""
    from .core.checkpoint import sniff
    try:
        sniff(path)
    except LutnetError:
        return False
    return True


def load_ir(path, command: str):
    """The NetworkIR in ``path``; a checkpoint given instead says to run ``lutnet export`` first."""
    from .errors import IRFormatError
    from .ir import NetworkIR
    p = Path(path)
    if not p.exists():
        raise IRFormatError(f"{p}: no such IR file (write one with `lutnet export CHECKPOINT -o {p}`)")
    if is_checkpoint(p):
        raise IRFormatError(f"{p} is a checkpoint, not an IR file: run `lutnet export {p} -o model.lutir.npz` "
                            f"first, then `lutnet {command} model.lutir.npz`")
    if not zipfile.is_zipfile(p):
        raise IRFormatError(f"{p} is not a lutnet IR file (a .lutir.npz zip written by `lutnet export` or "
                            f"NetworkIR.save)")
    ir = NetworkIR.load(p)
    if not ir.metadata.get("name"):  # reports and listings name the network: fall back to the file's name
        ir.metadata["name"] = p.name.split(".")[0]
    return ir

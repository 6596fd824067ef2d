"""Transformations of a LUT IR (qonnx style: one class per transformation, ``apply(ir)`` returns the
new IR and a report; the input IR is not modified).

* :class:`DontCareMinimize` (:mod:`lutnet.transforms.dontcare`): rewrite the table rows no
  training input reaches so that the synthesized logic shrinks (the ReducedLUT idea).
* :class:`SumAddress` (:mod:`lutnet.transforms.sum_address`): tables that are functions of the sum
  of their inputs become an adder + a table on the sum (PolyLUT-Add's adder), where that is smaller."""
from .dontcare import (  # noqa: F401
    CAVEAT,
    RULES,
    CareSet,
    DontCareMinimize,
    DontCareReport,
    care_mismatches,
    care_set,
    check_care_set,
    disagreement,
    from_care_file,
    load_care_file,
    write_care_file,
)
from .sum_address import SumAddress, SumAddressReport  # noqa: F401,E402

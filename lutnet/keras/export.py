"""Truth-table extraction of a Keras model of :class:`LUTLayer` layers: a thin frontend over
:mod:`lutnet.core.tables`.  Each chunk of enumerated input codes goes through the very function the
layer uses in inference (:meth:`LUTLayer.codes_of`)."""
from __future__ import annotations

import numpy as np

from ..core.tables import DEFAULT_CHUNK_ELEMS, DEFAULT_MAX_ROWS, LayerJob, extract_network
from ..core.tables import extract_layer as _extract
from ..errors import LutnetError
from ..ir import LayerIR, NetworkIR
from .layers import LUTLayer, lut_layers

__all__ = ["DEFAULT_MAX_ROWS", "extract_layer", "layer_job", "to_ir"]


def layer_job(layer: LUTLayer) -> LayerJob:
    """The core's view of a Keras LUT layer (parameters read once)."""
    layer.freeze()  # a learned mapping: its current selection is the wiring
    src, dst = layer.input_encoding, layer.output_encoding
    params = layer.numpy_params()
    family = layer.neuron
    return LayerJob(layer.name, layer.fan_in, layer.units, src.bits, src.signed, dst.bits, dst.signed,
                    layer.prune_mask.numpy() > 0, layer.connectivity.numpy().astype(np.int64), family.kind,
                    family.options, lambda codes: layer.codes_of(codes, params).astype(np.int32),
                    family.work_width)


def extract_layer(layer: LUTLayer, li: int = 0, max_rows: int = DEFAULT_MAX_ROWS,
                  chunk_elems: int = DEFAULT_CHUNK_ELEMS) -> LayerIR:
    return _extract(layer_job(layer), li, max_rows, chunk_elems)


def to_ir(model, max_rows: int = DEFAULT_MAX_ROWS, chunk_elems: int = DEFAULT_CHUNK_ELEMS,
          metadata: dict | None = None, progress: bool = False, device=None) -> NetworkIR:
    """Extract every neuron's truth table of a Keras LUT model (a chain of :class:`LUTLayer`);
    ``progress`` shows a bar over all table entries.  Tables are made in numpy on the CPU."""
    if device is not None:
        raise LutnetError(f"lutnet.keras.to_ir: device={device!r} is for PyTorch models only (Keras tables "
                          f"are made in numpy on the CPU); leave device out")
    meta = {"framework": "keras", **dict(metadata or {})}
    if getattr(model, "_lutnet_dwn", False):  # lutnet.keras.dwn.DWNModel: encoder/tables/head/argmax stages
        return model.to_ir(metadata=meta)
    layers = lut_layers(model)
    return extract_network([layer_job(layer) for layer in layers], layers[0].input_encoding,
                           layers[0].in_features, layers[-1].output_encoding, meta, max_rows, chunk_elems, progress)

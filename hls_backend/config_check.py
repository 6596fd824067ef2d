"""Feedback on hls4ml configuration keys that a LUT network does not use.

* Keywords of the conversion call (``convert_from_pytorch_model(..., outptu='verilog')``) reach
  ``LUTNetBackend.create_initial_config``: an unknown one is a :class:`lutnet.errors.ConfigError`
  naming it (and the closest known keyword).
* ``LUTNetConfig`` (or a backend keyword such as ``Output``) placed inside ``hls_config``, where
  hls4ml would drop it without a word, is a ConfigError saying where it belongs.
* ``Precision``, ``ReuseFactor``, ``Strategy`` set to anything but hls4ml's defaults (model, layer
  type or layer name level) and ``io_type='io_stream'`` give ONE warning naming each of them: a
  LUT network's widths come from its quantizers, every neuron is one table lookup (nothing to
  reuse), and the design is fully parallel."""
from __future__ import annotations

import difflib
import sys
import warnings

from lutnet.errors import ConfigError


class LUTNetConfigWarning(UserWarning):
    """A configuration key that the LUTNet backend ignores."""


# hls4ml's Vivado/Vitis keywords that the LUTNet backend accepts (see create_initial_config)
STOCK_KEYWORDS = ('part', 'clock_period', 'clock_uncertainty', 'io_type', 'namespace', 'write_weights_txt',
                  'write_tar', 'tb_output_stream')
LUTNET_KEYWORDS = ('output', 'cflags', 'pipeline', 'table_style', 'simulator', 'overwrite', 'max_rows')
KEYWORDS = LUTNET_KEYWORDS + STOCK_KEYWORDS

# hls_config keys that belong to the conversion call, not inside hls_config
BACKEND_KEYS = {'lutnetconfig': "LUTNetConfig", 'output': "output", 'part': "part", 'clockperiod': "clock_period",
                'iotype': "io_type", 'pipeline': "pipeline", 'tablestyle': "table_style", 'simulator': "simulator"}

DEFAULT_PRECISIONS = {None, 'auto', 'fixed<16,6>', 'ap_fixed<16,6>'}
DEFAULT_REUSE = {None, 1}
DEFAULT_STRATEGY = {None, 'latency'}


def check_keywords(kwargs: dict):
    """Unknown conversion keywords are errors (they used to be dropped silently)."""
    for key in kwargs:
        if key in KEYWORDS:
            continue
        close = difflib.get_close_matches(key, KEYWORDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"LUTNet backend: unknown keyword {key}={kwargs[key]!r}{hint}; the backend takes "
                          f"{', '.join(LUTNET_KEYWORDS)} and hls4ml's {', '.join(STOCK_KEYWORDS)}")


def check_hls_config(hls_config, where='hls_config'):
    """``LUTNetConfig`` or a backend keyword inside ``hls_config`` (top level or ``Model``) is an error."""
    if not isinstance(hls_config, dict):
        return
    for scope, d in ((where, hls_config), (f"{where}['Model']", hls_config.get('Model'))):
        if not isinstance(d, dict):
            continue
        for key in d:
            name = BACKEND_KEYS.get(str(key).lower())
            if name is None or (scope != where and name == 'output'):
                continue
            if name == 'LUTNetConfig':
                raise ConfigError(f"LUTNet backend: LUTNetConfig inside {scope} is not read (hls4ml keeps only Model, "
                                  f"LayerName, LayerType and the optimizer keys of hls_config); pass its entries as "
                                  f"keywords of the conversion call instead, e.g. convert_from_pytorch_model(model, "
                                  f"hls_config=config, backend='LUTNet', output='verilog', pipeline=1)")
            raise ConfigError(f"LUTNet backend: {key!r} inside {scope} is not read; pass it as the keyword "
                              f"{name}=... of the conversion call")


def install_hls_config_check():
    """hls4ml's converters pass ``hls_config`` to ``_check_hls_config`` (looked up when called):
    wrap it once so that a LUTNet conversion checks ``hls_config`` first.  Called from
    ``create_initial_config``, which every conversion runs before ``_check_hls_config``."""
    conv = sys.modules.get('hls4ml.converters')
    stock = getattr(conv, '_check_hls_config', None)
    if stock is None or getattr(stock, '_lutnet', False):
        return

    def _check_hls_config(config, hls_config):
        if str(config.get('Backend', '')).lower() == 'lutnet':
            check_hls_config(hls_config)
        return stock(config, hls_config)

    _check_hls_config._lutnet, _check_hls_config.__wrapped__ = True, stock
    conv._check_hls_config = _check_hls_config


def _lower(v):
    return v.lower() if isinstance(v, str) else v


def _precision_edits(p) -> bool:
    if isinstance(p, dict):
        return any(_precision_edits(v) for v in p.values())
    return _lower(p) not in DEFAULT_PRECISIONS


def ignored_settings(config: dict) -> list:
    """Human-readable list of the settings in ``config`` that do not apply to LUT layers."""
    found = []
    hls = config.get('HLSConfig') or {}
    scopes = [('Model', hls.get('Model'))]
    for level in ('LayerType', 'LayerName'):
        for name, cfg in (hls.get(level) or {}).items():
            scopes.append((f"{level}.{name}", cfg))
    for scope, cfg in scopes:
        if not isinstance(cfg, dict):
            continue
        if 'Precision' in cfg and _precision_edits(cfg['Precision']):
            found.append(f"Precision ({scope}: {cfg['Precision']})")
        if 'ReuseFactor' in cfg and cfg['ReuseFactor'] not in DEFAULT_REUSE:
            found.append(f"ReuseFactor ({scope}: {cfg['ReuseFactor']})")
        if 'Strategy' in cfg and _lower(cfg['Strategy']) not in DEFAULT_STRATEGY:
            found.append(f"Strategy ({scope}: {cfg['Strategy']})")
    io = (config.get('LUTNetConfig') or {}).get('RequestedIOType')
    if io not in (None, 'io_parallel'):
        found.append(f"io_type={io!r}")
    return found


def warn_ignored(config: dict):
    found = ignored_settings(config)
    if found:
        warnings.warn(f"LUTNet backend: {'; '.join(found)} do(es) not apply to LUT layers and is ignored. Code widths "
                      f"(precisions) come from the model's quantizers (input_quant/output_quant bit widths, "
                      f"recorded in the LUT IR), every neuron is one table lookup (no multiplier to reuse), and "
                      f"the design is fully parallel (io_parallel)", LUTNetConfigWarning, stacklevel=2)
    return found

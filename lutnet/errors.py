"""Exceptions raised by lutnet. Every message names the layer, file or parameter at fault and
what to do about it."""


class LutnetError(Exception):
    """Base class of all lutnet errors."""


class IRFormatError(LutnetError):
    """An IR file is unreadable, corrupt, of another format version, or inconsistent."""


class ConfigError(LutnetError, ValueError):
    """A model/training configuration (YAML) is malformed."""


class TableTooLargeError(LutnetError, ValueError):
    """A neuron's truth table would exceed the configured row bound."""


class OutputExistsError(LutnetError, FileExistsError):
    """Refusing to overwrite a user's existing file or directory."""


class DataNotFoundError(LutnetError, FileNotFoundError):
    """A dataset is not where lutnet looked; the message says where to put it."""


class ToolNotFoundError(LutnetError, RuntimeError):
    """An external tool (Verilator, Icarus, Yosys, g++) is missing; the message names the install step."""


class SimulationError(LutnetError, RuntimeError):
    """The simulator (Verilator, Icarus, the C simulation) failed to build or run the design, or its
    output is malformed."""


class UnsupportedQuantizerError(LutnetError, ValueError):
    """A quantizer (e.g. a QKeras one) has no fixed integer encoding a LUT table can use."""


class InputError(LutnetError, ValueError):
    """Input data (features or codes) a command or function cannot take: wrong dtype, shape or range."""


class LayerConfigError(LutnetError, ValueError):
    """A LUT layer's arguments (fan-in, neuron kind and options, connectivity, input pool) do not fit."""


class UnsupportedModelError(LutnetError, ValueError):
    """A model holds layers or operations lutnet cannot turn into LUTs (the message names each one)."""


class ProjectError(LutnetError, FileNotFoundError):
    """An hls4ml project directory is not a (complete) project of the LUTNet backend, or has not been
    compiled (predict/trace before compile) or built (report before build)."""


class SynthesisError(LutnetError, RuntimeError):
    """A synthesis tool failed on some tables (the message lists them); results of the others are cached."""

from hls4ml.model.optimizer import ModelOptimizerPass

from ..config_check import warn_ignored


class CheckConfig(ModelOptimizerPass):
    """One warning naming every config setting that does not apply to LUT layers (Precision,
    ReuseFactor, Strategy edits; io_type='io_stream'); see :mod:`lutnet.hls_backend.config_check`."""

    def __init__(self):
        super().__init__(name='check_config', transform=self.check)

    @staticmethod
    def check(model):
        warn_ignored(model.config.config)
        return False

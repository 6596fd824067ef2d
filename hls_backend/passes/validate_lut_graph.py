from hls4ml.model.optimizer import ModelOptimizerPass

from ..graph_ir import network_ir


class ValidateLutGraph(ModelOptimizerPass):
    """The graph must be: input codes -> optional thermometer encoder -> LUT layers -> optional
    GroupSum head -> optional argmax, with encodings that agree
    (checked by assembling and validating the network's LUT IR)."""

    def __init__(self):
        super().__init__(name='validate_lut_graph', transform=self.check)

    @staticmethod
    def check(model):
        network_ir(model)
        return False

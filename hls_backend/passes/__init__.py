"""Optimizer passes of the LUTNet backend (one class per step; hls4ml registers every
OptimizerPass subclass found here as ``lutnet:<snake_case_name>``)."""

"""Framework-neutral core: each neuron family's exact arithmetic, table enumeration and
connectivity, written once and shared by the Brevitas and QKeras frontends."""

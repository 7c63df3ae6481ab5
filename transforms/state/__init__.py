"""The state carried between runs (``wiredesk run --state``): see ``transforms`` and ``pipeline.state``."""
from wiredesk.transforms.state.header import state_header
from wiredesk.transforms.state.transforms import BuildState, PriorInputs, ReadState, StateFileError

__all__ = ["BuildState", "PriorInputs", "ReadState", "StateFileError", "state_header"]

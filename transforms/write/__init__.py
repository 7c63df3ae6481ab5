"""Write stage: Parquet tables through Beam's file sink (``transforms``), rows (``rows``), the sink (``sink``)."""
from wiredesk.transforms.write.counts import WriteCounts
from wiredesk.transforms.write.transforms import SORT_KEYS, TARGET_FILE_BYTES, TEMPORARY, WriteTable

__all__ = ["SORT_KEYS", "TARGET_FILE_BYTES", "TEMPORARY", "WriteCounts", "WriteTable"]

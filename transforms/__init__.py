"""wiredesk's stages, one composite PTransform each: read, normalize, versions,
dedup, entities, events, write (a package for each stage that needs several modules)."""


def typed(pcoll, element_type):
    """Declare the record type of a DoFn's tagged output so Beam encodes it with
    its RowCoder rather than by pickling."""
    pcoll.element_type = element_type
    return pcoll

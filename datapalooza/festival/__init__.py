"""The local festival: the whole pipeline on one machine (``datapalooza up``)."""

"""Chorus for Python: the worker SDK (:mod:`chorus.worker`), the client (:mod:`chorus.client`) and the
generated protocol messages (:mod:`chorus.v1`, :mod:`chorus.worker.v1`)."""

__version__ = "0.1.0"

"""GRACE and KnowledgeCells: processing cells behind contract 2.1."""

from tzzr.cells.base import Artifact, Cell, CellContext, CellFailed, CellResult, Payload
from tzzr.cells.meta import KnowledgeCell
from tzzr.cells.registry import Registry

__all__ = [
    "Artifact",
    "Cell",
    "CellContext",
    "CellFailed",
    "CellResult",
    "KnowledgeCell",
    "Payload",
    "Registry",
]

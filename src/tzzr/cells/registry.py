"""The registry of cells, discovered through the `tzzr.cells` entry-point group."""

from collections.abc import Iterable
from importlib.metadata import entry_points

from tzzr.cells.base import Cell
from tzzr.errors import ConfigError, NotFound

GROUP = "tzzr.cells"


class Registry:
    def __init__(self, cells: Iterable[Cell]) -> None:
        self._by_id: dict[str, Cell] = {}
        self._by_module: dict[str, Cell] = {}
        for cell in cells:
            if not isinstance(cell, Cell):
                raise ConfigError(f"{cell!r} does not implement the cell contract")
            if cell.meta.id in self._by_id:
                raise ConfigError(f"two cells claim the id {cell.meta.id!r}")
            self._by_id[cell.meta.id] = cell
            self._by_module[cell.module] = cell

    @classmethod
    def discover(cls) -> "Registry":
        """Every cell installed in the `tzzr.cells` group, built-in or third-party. A
        factory that returns None stays out (e.g. its hardware is missing here)."""
        cells = []
        for point in entry_points(group=GROUP):
            try:
                cell = point.load()()
                if cell is not None:
                    cells.append(cell)
            except Exception as exc:
                raise ConfigError(
                    f"cell plug-in {point.name!r} ({point.value}) failed to load: {exc}"
                ) from exc
        return cls(cells)

    def cells(self) -> list[Cell]:
        return sorted(self._by_id.values(), key=lambda c: c.meta.id)

    def get(self, cell_id: str) -> Cell:
        found = self._by_id.get(cell_id)
        if found is None:
            raise NotFound(f"no cell {cell_id!r}; known: {', '.join(sorted(self._by_id))}")
        return found

    def module(self, name: str) -> Cell:
        found = self._by_module.get(name)
        if found is None:
            raise NotFound(
                f"unknown module {name!r}; known modules: {', '.join(sorted(self._by_module))}"
            )
        return found

    @property
    def modules(self) -> list[str]:
        return sorted(self._by_module)

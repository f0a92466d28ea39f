"""Sample captures shipped with TZZR (made by scripts/make_samples.py): cells' test
cases and visualizations, and `tzzr demo`."""

from importlib.resources import files


def read(name: str) -> bytes:
    """A sample's bytes; FileNotFoundError names the known ones."""
    resource = files(__name__) / name
    if not resource.is_file() or name.startswith(("_", ".")) or "/" in name:
        known = sorted(
            p.name for p in files(__name__).iterdir() if not p.name.startswith(("_", "."))
        )
        raise FileNotFoundError(f"no sample {name!r}; samples: {', '.join(known)}")
    return resource.read_bytes()

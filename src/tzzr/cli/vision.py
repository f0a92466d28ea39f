"""`tzzr vision …`: visions, milestones, actions, habits and THE FACTORY from the shell."""

from tzzr.cli.params import App


def register(app: App) -> None:
    """Adds the `vision` command group (filled in by VISION BUILDER)."""

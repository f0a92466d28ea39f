"""Write the role table of docs/security.md from the code: `python scripts/role_table.py`.
(tests/api/test_roles.py fails while the page and the code disagree.)"""

import re
import sys
import tempfile
from pathlib import Path

from tzzr.api import roles
from tzzr.app import create_app
from tzzr.config import Settings
from tzzr.services import Services

PAGE = Path(__file__).parent.parent / "docs" / "security.md"
BLOCK = re.compile(r"(<!-- roles:begin -->\n).*?(<!-- roles:end -->)", re.S)


def table() -> str:
    with tempfile.TemporaryDirectory() as home:
        services = Services.build(Settings(home=Path(home)))
        try:
            return roles.markdown(create_app(services))
        finally:
            services.close()


def main() -> int:
    text = PAGE.read_text()
    if not BLOCK.search(text):
        print(f"{PAGE} has no <!-- roles:begin --> … <!-- roles:end --> block", file=sys.stderr)
        return 1
    PAGE.write_text(BLOCK.sub(lambda m: m.group(1) + table() + m.group(2), text))
    return 0


if __name__ == "__main__":
    sys.exit(main())

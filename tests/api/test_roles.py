"""The role table: written from the code into docs/security.md, and into the OpenAPI
document (`x-tzzr-role`), where the isolation suite reads it."""

import re
from pathlib import Path

from tzzr.api import roles
from tzzr.app import create_app
from tzzr.services import Services

PAGE = Path(__file__).parent.parent.parent / "docs" / "security.md"


def test_the_documented_role_table_is_the_codes(services: Services) -> None:
    app = create_app(services)
    found = re.search(r"<!-- roles:begin -->\n(.*?)<!-- roles:end -->", PAGE.read_text(), re.S)
    assert found is not None
    assert found.group(1) == roles.markdown(app), "run: python scripts/role_table.py"


def test_every_operation_names_its_role_in_the_document(services: Services) -> None:
    app = create_app(services)
    served = roles.operation_roles(app.openapi())
    assert served[("POST", "/ingest")] == "ingest"
    assert served[("POST", "/flows")] == "admin"
    assert served[("GET", "/entries")] == "read"
    assert served[("GET", "/metrics")] == "operator"
    assert served[("POST", "/operator/flows/install-defaults")] == "operator"
    assert served[("GET", "/health")] == "public"
    assert set(served.values()) <= set(roles.ADMITS)
    # Nothing beyond liveness and the web app's pages (which hold no data) is public.
    public = sorted(op for op, needed in served.items() if needed == "public")
    assert all(path == "/health" or path.startswith("/app") for _, path in public), public
    assert set(roles.STORED_DATA) <= set(served)

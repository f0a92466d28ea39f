import hashlib

import pytest
from sqlalchemy import text

from tzzr.errors import Conflict, InvalidInput, NotFound
from tzzr.services import Services

CORP_SCHEMA = {
    "type": "object",
    "required": ["company_id", "cost_center"],
    "properties": {"company_id": {"type": "string", "pattern": "^[A-Z]{2}[0-9]+$"}},
}


def test_h_instancia_is_sha256_of_the_secret_seed(services: Services) -> None:
    info = services.instances.add("deck")
    with services.engine.connect() as conn:
        seed = conn.execute(text("SELECT seed FROM instances WHERE name='deck'")).scalar_one()
    assert info.h_instancia == hashlib.sha256(seed.encode()).hexdigest()
    assert info.blob_prefix == "deck"


def test_each_instance_gets_its_own_seed(services: Services) -> None:
    assert services.instances.add("deck").h_instancia != services.instances.add("corp").h_instancia


def test_names_are_validated_and_unique(services: Services) -> None:
    services.instances.add("deck")
    with pytest.raises(Conflict):
        services.instances.add("deck")
    with pytest.raises(InvalidInput, match="lowercase"):
        services.instances.add("Bad Name")
    with pytest.raises(NotFound, match="tzzr instances add nope"):
        services.instances.get("nope")


def test_fields_schema_is_checked_and_enforced(services: Services) -> None:
    with pytest.raises(InvalidInput, match="JSON Schema"):
        services.instances.add("corp", {"type": "nonsense"})
    corp = services.instances.add("corp", CORP_SCHEMA)
    corp.check_metadata({"company_id": "ES123", "cost_center": "x"})
    with pytest.raises(InvalidInput) as missing:
        corp.check_metadata({"company_id": "ES123"})
    assert missing.value.field == "metadata.cost_center"
    with pytest.raises(InvalidInput) as wrong:
        corp.check_metadata({"company_id": "nope", "cost_center": "x"})
    assert wrong.value.field == "metadata.company_id"

import pytest
from sqlalchemy import text

from tzzr.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from tzzr.keys import Operator, Principal
from tzzr.services import Services


def test_a_key_authenticates_to_its_instance(services: Services) -> None:
    services.instances.add("deck")
    key, key_id = services.keys.create("deck", "ingest")
    principal = services.keys.authenticate(f"Bearer {key}")
    assert isinstance(principal, Principal)
    assert principal.instance.name == "deck"
    assert principal.role == "ingest"
    assert principal.key_id == key_id


def test_an_operator_key_belongs_to_no_instance_and_reads_none(services: Services) -> None:
    services.instances.add("deck")
    key, key_id = services.keys.create_operator()
    operator = services.keys.authenticate(f"Bearer {key}")
    assert isinstance(operator, Operator) and operator.key_id == key_id
    operator.require("operator")
    for permission in ("ingest", "read", "admin"):
        with pytest.raises(Forbidden, match="reads no instance's data"):
            operator.require(permission)
    (listed,) = services.keys.list()
    assert listed.instance is None and listed.role == "operator"
    admin_key, _ = services.keys.create("deck", "admin")
    admin = services.keys.authenticate(f"Bearer {admin_key}")
    with pytest.raises(Forbidden, match="operator key"):
        admin.require("operator")
    with pytest.raises(InvalidInput):
        services.keys.create("deck", "operator")  # type: ignore[arg-type]


def test_keys_are_stored_hashed(services: Services) -> None:
    services.instances.add("deck")
    key, _ = services.keys.create("deck")
    with services.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM api_keys")).all()
    assert rows and all(key not in str(tuple(r)) for r in rows)


@pytest.mark.parametrize(
    "header",
    [None, "", "Basic abc", "Bearer ", "Bearer tzzr_nope_nope", "Bearer garbage"],
)
def test_missing_or_bad_keys_are_rejected(services: Services, header: str | None) -> None:
    services.instances.add("deck")
    with pytest.raises(Unauthorized):
        services.keys.authenticate(header)


def test_a_wrong_secret_with_a_real_key_id_is_rejected(services: Services) -> None:
    services.instances.add("deck")
    key, _ = services.keys.create("deck")
    with pytest.raises(Unauthorized, match="invalid"):
        services.keys.authenticate(f"Bearer {key[:-2]}xx")


def test_revoked_keys_stop_working_at_once(services: Services) -> None:
    services.instances.add("deck")
    key, key_id = services.keys.create("deck")
    services.keys.revoke(key_id)
    with pytest.raises(Unauthorized, match="revoked"):
        services.keys.authenticate(f"Bearer {key}")
    with pytest.raises(NotFound):
        services.keys.revoke(key_id)
    assert services.keys.list("deck")[0].revoked_at is not None


def test_roles_grant_permissions(services: Services) -> None:
    services.instances.add("deck")
    ingest_key, _ = services.keys.create("deck", "ingest")
    read_key, _ = services.keys.create("deck", "read")
    admin_key, _ = services.keys.create("deck", "admin")
    services.keys.authenticate(f"Bearer {ingest_key}").require("ingest")
    with pytest.raises(Forbidden, match="role 'ingest'"):
        services.keys.authenticate(f"Bearer {ingest_key}").require("read")
    with pytest.raises(Forbidden):
        services.keys.authenticate(f"Bearer {read_key}").require("ingest")
    admin = services.keys.authenticate(f"Bearer {admin_key}")
    for permission in ("ingest", "read", "admin"):
        admin.require(permission)


def test_the_key_cache_skips_the_database_and_revocation_clears_it(services: Services) -> None:
    from tzzr.keys import Keys

    services.instances.add("deck")
    keys = Keys(services.engine, services.instances, cache_seconds=60)
    key, key_id = keys.create("deck")
    assert keys.cached(f"Bearer {key}") is None
    keys.authenticate(f"Bearer {key}")
    hit = keys.cached(f"Bearer {key}")
    assert hit is not None and hit.key_id == key_id
    assert keys.cached(f"Bearer {key}x") is None
    keys.revoke(key_id)
    assert keys.cached(f"Bearer {key}") is None
    with pytest.raises(Unauthorized):
        keys.authenticate(f"Bearer {key}")

from tzzr.work.retry import backoff


def test_the_back_off_doubles_from_its_base() -> None:
    assert [backoff(0.1, attempt) for attempt in (1, 2, 3)] == [0.1, 0.2, 0.4]
    assert backoff(30, 1) == 30.0

from __future__ import annotations

from inbox.ids import new_id


def test_ids_made_one_after_the_other_sort_in_that_order() -> None:
    made = [new_id("msg") for _ in range(1000)]

    assert sorted(made) == made
    assert len(set(made)) == 1000
    assert all(len(i) == len("msg_") + 26 for i in made)

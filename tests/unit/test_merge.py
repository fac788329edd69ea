from shopwave.engine.merge import adopt, merge

BASE = {"email": "a@x", "phone": "1", "city": "Oslo"}


def test_given_only_the_source_changed_when_merging_then_its_fields_are_written():
    result = merge(BASE, {**BASE, "phone": "2"}, BASE, source_is_later=True)
    assert result.write == ["phone"] and result.agreed["phone"] == "2" and not result.conflicts


def test_given_each_side_changed_another_field_when_merging_then_only_the_sources_field_is_written_here():
    result = merge(BASE, {**BASE, "phone": "2"}, {**BASE, "city": "Bergen"}, source_is_later=False)
    assert result.write == ["phone"]
    assert result.agreed == {**BASE, "phone": "2"}  # the city reaches the source through the reverse flow


def test_given_both_sides_changed_one_field_when_the_source_is_later_then_it_wins_and_a_conflict_is_recorded():
    result = merge(BASE, {**BASE, "phone": "2"}, {**BASE, "phone": "3"}, source_is_later=True)
    assert result.write == ["phone"]
    assert [(c.field, c.winner, c.target) for c in result.conflicts] == [("phone", "source", "3")]


def test_given_both_sides_changed_one_field_when_the_target_is_later_then_nothing_is_written_and_it_wins():
    result = merge(BASE, {**BASE, "phone": "2"}, {**BASE, "phone": "3"}, source_is_later=False)
    assert result.write == [] and result.conflicts[0].winner == "target"


def test_given_two_records_meeting_when_adopting_then_source_values_win_and_target_fills_gaps():
    agreed, to_target, to_source = adopt({"email": "a@x", "phone": None}, {"email": "A@x", "phone": "9"})
    assert agreed == {"email": "a@x", "phone": "9"}
    assert to_target == ["email"] and to_source == ["phone"]

from books.search.query import Atom, parse, to_fts5, to_pg_tsquery


def test_words_are_anded_and_the_last_is_a_prefix():
    parsed = parse("Dark Forest")
    assert parsed.must == [[Atom(("dark",))], [Atom(("forest",), prefix=True)]]
    assert to_pg_tsquery(parsed) == "dark & forest:*"
    assert to_fts5(parsed) == '("dark" AND "forest"*)'


def test_phrase_or_and_exclusion():
    parsed = parse('"red planet" or mars -moon')
    assert to_pg_tsquery(parsed) == "((red <-> planet) | mars) & !moon"
    assert to_fts5(parsed) == '((("red planet" OR "mars")) NOT "moon")'


def test_stop_words_are_dropped_when_other_words_remain():
    assert parse("the hobbit").positive_words == ["hobbit"]
    assert parse("the").positive_words == ["the"]


def test_operators_cannot_be_injected():
    parsed = parse("a&b|c !d:* <-> 'e'")
    sql = to_pg_tsquery(parsed)
    assert "|" not in sql and "!" not in sql.replace(" & !", "")
    # The last word is a prefix, even a single letter, after other words ("left h").
    assert sql == "(a <-> b <-> c) & d & e:*"
    assert '"' not in "".join(w for a in parsed.positive_atoms for w in a.words)


def test_short_last_word_is_not_a_prefix():
    assert parse("an ox").positive_atoms[-1].prefix is False


def test_short_last_word_after_other_words_is_a_prefix():
    assert parse("left h").positive_atoms[-1].prefix is True
    assert parse("left ha").positive_atoms[-1].prefix is True


def test_query_length_and_atom_count_are_bounded():
    parsed = parse(" ".join(f"w{i}" for i in range(100)))
    assert len(parsed.positive_atoms) <= 12
    assert len(parse("x" * 1000).raw) == 200

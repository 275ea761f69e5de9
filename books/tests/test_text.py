from books.text import content_words, damerau_levenshtein, normalize


def test_normalize_ignores_case_accents_and_punctuation():
    assert normalize("  Émile  ZOLA!") == "emile zola"
    assert normalize("Søren's  Café") == "søren s cafe"


def test_content_words_drop_stop_words_and_numbers():
    assert content_words("The Lord of the Rings 1954") == ["lord", "rings"]


def test_edit_distance_counts_a_transposition_once():
    assert damerau_levenshtein("tolkein", "tolkien") == 1
    assert damerau_levenshtein("hobit", "hobbit") == 1
    assert damerau_levenshtein("abc", "xyzuvw", limit=2) == 3

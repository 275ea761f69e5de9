from books.search.highlight import Highlighter


def test_marks_whole_words_with_plural_and_accent_differences():
    html = Highlighter(["dragon"]).mark("Dragons and a dragonfly; DRAGON!")
    assert html == "<mark>Dragons</mark> and a <mark>dragonfly</mark>; <mark>DRAGON</mark>!"


def test_escapes_everything_else():
    html = Highlighter(["x"]).mark('<img src=x onerror="alert(1)">')
    assert "<img" not in html and "&lt;img" in html


def test_prefixes_match_word_starts():
    assert Highlighter([], ["hob"]).mark("The Hobbit") == "The <mark>Hobbit</mark>"


def test_snippet_centres_on_the_first_match():
    text = "filler " * 100 + "the lantern glows " + "tail " * 100
    snippet = Highlighter(["lantern"]).snippet(text, length=80)
    assert "<mark>lantern</mark>" in snippet
    assert snippet.startswith("… ") and snippet.endswith(" …")

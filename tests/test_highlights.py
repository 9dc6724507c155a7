"""The key sentences: a reader sees the sentence stating the paper's idea and the one stating its
result, picked from the abstract itself."""

from paperradar.highlights import Highlights, highlight, sentences

ABSTRACT = (
    "Large language models are increasingly used for code generation. However, they often produce "
    "programs that fail on edge cases, e.g. empty inputs. In this paper, we propose TestLoop, a method "
    "that iteratively repairs programs using self-generated unit tests. Experiments on HumanEval and MBPP "
    "show that TestLoop outperforms strong baselines by 7.5% pass@1. Code is available at "
    "https://example.org/testloop."
)


def test_idea_and_result_sentences_are_the_ones_a_reader_would_mark():
    h = highlight(ABSTRACT)
    assert h.idea is not None and h.idea.startswith("In this paper, we propose TestLoop")
    assert h.result is not None and h.result.startswith("Experiments on HumanEval")


def test_abbreviations_do_not_end_a_sentence():
    got = sentences(ABSTRACT)
    assert "fail on edge cases, e.g. empty inputs." in got[1]
    assert len(got) == 5


def test_a_one_sentence_or_empty_abstract_has_no_highlights():
    assert highlight("We study graphs.") == Highlights(None, None)
    assert highlight(None) == Highlights(None, None)


def test_idea_and_result_are_different_sentences():
    h = highlight("We propose X. We propose Y and show it outperforms Z by 3%.")
    assert h.idea != h.result and {h.idea, h.result} == set(
        sentences("We propose X. We propose Y and show it outperforms Z by 3%.")
    )

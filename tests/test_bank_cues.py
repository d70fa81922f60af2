"""The bank must measure knowledge, not reward guessing: no answer position,
option length or "tick everything" habit may beat chance by much.

Each test plays a guessing strategy that knows nothing about LLM APIs against
the whole bank and checks its score. Options are also shuffled at display, but
the bank itself must carry no cue: the terminal export, the slides and anyone
reading the YAML see bank order."""

from collections import Counter
from itertools import combinations

import pytest

from llmlab.quiz.bank import load_bank

QUESTIONS = [q for topic in load_bank().values() for q in topic.questions]
SINGLE = [q for q in QUESTIONS if q.type == "single"]
MULTIPLE = [q for q in QUESTIONS if q.type == "multiple"]


def _share(hits: int, total: int) -> float:
    return hits / total if total else 0.0


def test_the_bank_has_choice_questions():
    assert len(SINGLE) >= 100 and len(MULTIPLE) >= 40


@pytest.mark.parametrize("position", range(4))
def test_no_answer_position_holds_more_than_40_percent_of_single_choice_keys(position):
    share = _share(sum(q.answer == position for q in SINGLE), len(SINGLE))
    assert share <= 0.40, f"option {position} is the key of {share:.0%} of single-choice questions"


def _longest(options: list[str]) -> int:
    return max(range(len(options)), key=lambda i: (len(options[i]), -i))


def _shortest(options: list[str]) -> int:
    return min(range(len(options)), key=lambda i: (len(options[i]), i))


def test_picking_the_longest_option_scores_at_most_40_percent():
    share = _share(sum(_longest(q.options) == q.answer for q in SINGLE), len(SINGLE))
    assert share <= 0.40, f"'pick the longest option' scores {share:.0%} on single choice"


def test_picking_the_shortest_option_scores_at_most_40_percent():
    share = _share(sum(_shortest(q.options) == q.answer for q in SINGLE), len(SINGLE))
    assert share <= 0.40, f"'pick the shortest option' scores {share:.0%} on single choice"


def test_multiple_choice_keys_spread_across_positions():
    """Each position is right in some questions and wrong in others, about as often."""
    for position in range(4):
        with_position = [q for q in MULTIPLE if len(q.options) > position]
        share = _share(sum(position in q.answer for q in with_position), len(with_position))
        assert 0.30 <= share <= 0.75, f"option {position} is among the keys of {share:.0%} of multiple-choice questions"
    first_key = Counter(min(q.answer) for q in MULTIPLE)
    top = first_key.most_common(1)[0]
    assert _share(top[1], len(MULTIPLE)) <= 0.50, f"the first right option is option {top[0]} in {top[1]} questions"


def test_the_number_of_right_options_varies():
    """If every question had three right options of four, 'tick three' would be a strategy."""
    sizes = Counter(len(q.answer) for q in MULTIPLE)
    assert _share(sizes.most_common(1)[0][1], len(MULTIPLE)) <= 0.60, f"answer-set sizes: {dict(sizes)}"
    everything = sum(len(q.answer) == len(q.options) for q in MULTIPLE)
    assert _share(everything, len(MULTIPLE)) <= 0.15, f"'tick everything' is right in {everything} questions"


def test_no_fixed_set_of_ticks_beats_chance_by_much():
    """Every fixed guess ('tick 1 and 3', 'tick all', ...) against every four-option question."""
    four = [q for q in MULTIPLE if len(q.options) == 4]
    for size in range(1, 5):
        for guess in combinations(range(4), size):
            share = _share(sum(set(q.answer) == set(guess) for q in four), len(four))
            assert share <= 0.20, f"always ticking {guess} is exactly right in {share:.0%} of questions"


def test_a_guessing_bot_scores_near_chance():
    """A bot that mixes the usual test-taking cues (longest option, most hedged
    wording, 'all of the above') must stay close to what blind luck gets."""
    hedges = ("usually", "often", "can", "may", "depends", "typically", "both")

    def bot_single(options: list[str]) -> int:
        def cue(i: int) -> tuple:
            text = options[i].lower()
            return (sum(h in text.split() for h in hedges), len(text))
        return max(range(len(options)), key=cue)

    single_score = _share(sum(bot_single(q.options) == q.answer for q in SINGLE), len(SINGLE))
    chance = sum(1 / len(q.options) for q in SINGLE) / len(SINGLE)
    assert single_score <= chance + 0.15, f"cue bot scores {single_score:.0%} on single choice (chance {chance:.0%})"

    def bot_multiple(options: list[str]) -> set[int]:  # tick every option longer than the median
        lengths = sorted(len(o) for o in options)
        median = lengths[len(lengths) // 2]
        return {i for i, o in enumerate(options) if len(o) >= median}

    multi_score = _share(sum(bot_multiple(q.options) == set(q.answer) for q in MULTIPLE), len(MULTIPLE))
    assert multi_score <= 0.25, f"cue bot is exactly right on {multi_score:.0%} of multiple-choice questions"

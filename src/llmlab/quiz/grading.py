"""Scoring in Python: one function per question type, and model grading of
open answers against a rubric through a JSON schema."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Sequence

from pydantic import BaseModel, Field, ValidationError

from .bank import MultipleChoice, Numeric, OpenAnswer, Question, SingleChoice


@dataclass(frozen=True)
class Result:
    question_id: str
    score: float  # 0.0 .. 1.0
    correct: bool
    feedback: str


def grade(question: Question, response: Any) -> Result:
    """Grade a closed question. Open answers go through `self_grade` or `grade_open_with_model`."""
    if isinstance(question, SingleChoice):
        if response is None:
            return Result(question.id, 0.0, False, "No option chosen.")
        ok = int(response) == question.answer
        return Result(question.id, float(ok), ok, _feedback(ok, question.explanation,
                      f"The answer is: {question.options[question.answer]}"))
    if isinstance(question, MultipleChoice):
        chosen = set(response or [])
        right = set(question.answer)
        ok = chosen == right
        # Partial credit: right picks minus wrong picks, never below zero.
        partial = max(0.0, (len(chosen & right) - len(chosen - right)) / len(right))
        answer = "; ".join(question.options[i] for i in sorted(right))
        return Result(question.id, 1.0 if ok else round(partial, 2), ok,
                      _feedback(ok, question.explanation, f"The right options: {answer}"))
    if isinstance(question, Numeric):
        try:
            value = float(response)
        except (TypeError, ValueError):
            return Result(question.id, 0.0, False, "Enter a number.")
        ok = math.isfinite(value) and abs(value - question.answer) <= question.tolerance
        unit = f" {question.unit}" if question.unit else ""
        return Result(question.id, float(ok), ok, _feedback(ok, question.explanation,
                      f"The answer is {question.answer:g}{unit} (±{question.tolerance:g})"))
    if isinstance(question, OpenAnswer):
        raise TypeError("open answers are graded with self_grade() or grade_open_with_model()")
    raise TypeError(f"unknown question type {type(question).__name__}")


def _feedback(ok: bool, explanation: str, answer_line: str) -> str:
    return f"Correct. {explanation}" if ok else f"Not quite. {answer_line}. {explanation}"


def self_grade(question: OpenAnswer, covered: Sequence[bool]) -> Result:
    """The learner ticks the rubric points their answer made (replay mode)."""
    if len(covered) != len(question.rubric):
        raise ValueError(f"expected {len(question.rubric)} rubric ticks, got {len(covered)}")
    score = sum(bool(c) for c in covered) / len(question.rubric)
    missed = [p for p, c in zip(question.rubric, covered) if not c]
    feedback = "All rubric points covered." if not missed else "Points to add: " + "; ".join(missed)
    return Result(question.id, round(score, 2), score >= 0.99, feedback)


class RubricVerdict(BaseModel):
    """What the grading model must return."""

    covered: list[bool] = Field(description="one entry per rubric point, in order")
    feedback: str = Field(description="two sentences for the candidate")


def verdict_schema(n_points: int) -> dict:
    schema = RubricVerdict.model_json_schema()
    schema["properties"]["covered"].update(minItems=n_points, maxItems=n_points)
    schema["additionalProperties"] = False
    return schema


def grading_messages(question: OpenAnswer, answer: str) -> list[dict]:
    rubric = "\n".join(f"{i + 1}. {p}" for i, p in enumerate(question.rubric))
    return [
        {"role": "system", "content": (
            "You grade interview answers strictly against a rubric. For each rubric point say whether the "
            "candidate's answer makes it. Reply with JSON: {\"covered\": [true|false, ...], \"feedback\": \"...\"}.")},
        {"role": "user", "content": (
            f"Question: {question.prompt}\nRubric:\n{rubric}\nReference answer: {question.model_answer}\n\n"
            f"Candidate's answer: {answer}")},
    ]


class GradingError(RuntimeError):
    pass


def grade_open_with_model(lab: Any, question: OpenAnswer, answer: str) -> Result:
    """Grade an open answer with the live model, using structured output where the
    backend supports a JSON schema and JSON mode plus validation where it does not."""
    if lab.mode == "replay":
        raise GradingError("Model grading needs a live backend; in replay, compare with the model answer "
                           "and tick the rubric points yourself.")
    if "json_schema" in lab.capabilities:
        fmt = {"type": "json_schema", "json_schema": {
            "name": "rubric_verdict", "strict": True, "schema": verdict_schema(len(question.rubric))}}
    else:
        fmt = {"type": "json_object"}
    response = lab.client.chat.completions.create(
        model=lab.models.chat, messages=grading_messages(question, answer), temperature=0,
        max_tokens=300, response_format=fmt)
    text = response.choices[0].message.content or ""
    try:
        verdict = RubricVerdict.model_validate(json.loads(text))
    except (ValueError, ValidationError) as exc:
        raise GradingError(f"The model's verdict was not valid JSON for the schema ({exc.__class__.__name__}); "
                           "grade this one yourself against the rubric.") from None
    covered = (list(verdict.covered) + [False] * len(question.rubric))[: len(question.rubric)]
    result = self_grade(question, covered)
    return Result(result.question_id, result.score, result.correct, f"{verdict.feedback} {result.feedback}".strip())

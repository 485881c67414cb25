"""The assistant's evaluation, every question: accuracy per intent and the time per answer.

Seeds the evaluation chain (tests/backend/assistant/evaluation.py: several makers per generic and
strength, three branches in three time zones, reorder levels, bills sold today) in a fresh database,
asks the local engine all the questions of tests/data/assistant_eval.jsonl as the chain's owner, and
grades each answer against SQL: right, asked (which one?), miss (no answer) or wrong (a number that
is not the database's, a product nobody asked about, products not told apart). Goal: zero wrong.

Run: make bench, or python -m bench.assistant_eval [--show wrong,miss]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.common import fresh_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--show", default="wrong", help="grades whose questions are listed (comma-separated)")
    parser.add_argument("--questions", default=None, help="another question file in the same format")
    args, _ = parser.parse_known_args()
    fresh_database("bench_assistant_eval")

    from sqlalchemy import text

    from backend.assistant.local_engine import answer
    from backend.core import database
    from tests.backend.assistant.evaluation import QUESTIONS, load_questions, report, run_evaluation, seed_chain

    started = time.perf_counter()
    chain = seed_chain()
    print(f"seeded the evaluation chain in {time.perf_counter() - started:.1f} s")
    engine = database.owner_engine()

    def sql(statement: str, params: dict) -> list:  # type: ignore[type-arg]
        with engine.connect() as connection:
            return list(connection.execute(text(statement), params).all())

    answer(chain.ctx(), "what is metformin used for?")  # loads the drug dictionary once (~3 s), not timed
    graded = run_evaluation(sql, chain, load_questions(Path(args.questions) if args.questions else QUESTIONS))
    print("assistant evaluation (local engine, every question):")
    print(report(graded))
    print("slowest answers:")
    for g in sorted(graded, key=lambda g: -g.millis)[:5]:
        print(f"  {g.millis:.0f} ms  {g.asked!r}")
    shown = set(args.show.split(","))
    for g in graded:
        if g.grade in shown:
            print(f"  [{g.grade}] {g.question['intent']}: {g.asked!r} -> {g.intent}: {g.why}")


if __name__ == "__main__":
    main()

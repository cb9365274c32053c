"""Pseudonymiser speed: notes per second of the current matcher against the floor.

The floor is the matcher before the hostile-input work (issue 14), read from git
(``--baseline REV``, default ``4d488ef``) into a throw-away module and timed in the same
run on the same notes, so the ratio does not depend on how busy the machine is.

Corpus: ``--notes`` (100,000) evidence notes of 10 to 40 words, built with a fixed seed
from ordinary Dutch observation phrases; about one note in six mentions a person of the
30-name roster (first name, surname, full name), one in forty a phone number, e-mail or
student number, one in ten a date, time or room number. The pseudonymiser is rebuilt from
the stored fingerprints as the store does (``Pseudonymiser.from_fingerprints``).

Three matchers: ``new`` (this version on the fingerprints it stores), ``floor`` (the old
version on its own fingerprints) and ``old-rows`` (this version on fingerprints the old
version stored: no word or coverage rows, so every word is looked up and, with a school on
the roster, every run of words is tried).

Two figures:

1. bulk: notes/s over the whole corpus (an import of notes), best of ``--repeat``;
   target: the new matcher is at most 2x slower than the floor (ratio new/old <= 2).
2. save: one fully scored case of the largest framework (123 assessable items, a note on
   every item), pseudonymised from a cold pseudonymiser (built from the fingerprints, as
   after a restart; later saves in the same kernel hit its caches), median over
   ``--saves`` saves; target: ``new`` under half of the app's save budget of 100 ms for
   the whole save. ``old-rows`` is reported, not judged: it runs at the floor's speed
   until the roster is imported again.

Run:  uv run --no-sync python benchmarks/privacy.py [--notes N] [--repeat R] [--baseline REV]
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RATIO_TARGET = 2.0
SAVE_BUDGET_S = 0.100
SAVE_ITEMS = 123
KEY = bytes(range(32))

# fictional people (no real persons); a mix as on a Dutch teacher-education roster
ROSTER = [
    ("Sanne de Vries", "student"), ("Daan Visser", "student"), ("Emma Jansen", "student"),
    ("Lucas van den Berg", "student"), ("Fatima El Amrani", "werkplekbegeleider"),
    ("Mehmet Yılmazer", "student"), ("Zofia Kowalczyk", "student"), ("Noah Bakker", "student"),
    ("Julia Smit", "student"), ("Sem de Jong", "student"), ("Tess Mulder", "student"),
    ("Finn van Dijk", "student"), ("Lotte Meijer", "student"), ("Bram Hendriks", "schoolopleider"),
    ("Yara Bouzid", "student"), ("Ruben Kuipers", "student"), ("Isa van Leeuwen", "student"),
    ("Thijs Brouwer", "student"), ("Noor Haddou", "student"), ("Jesse Vermeulen", "student"),
    ("Fleur van der Heijden", "student"), ("Milan Dekker", "student"), ("Roos Wagenaar", "student"),
    ("Sebastiaan Koster", "werkplekbegeleider"), ("Cornelis Prins", "instituutsopleider"),
    ("Maria Wijnands", "student"), ("Johannes Veldkamp", "student"), ("Søren Lindqvist", "student"),
    ("Ayşe Demirci", "student"), ("Het Stedelijk Lyceum", "school"),
]

_OPENERS = ["De student", "Ze", "Hij", "In de les", "Bij de start", "Tijdens de instructie",
            "Na de pauze", "In het nagesprek", "Aan het eind", "Bij het groepswerk"]
_PHRASES = [
    "gaf twee voorbeelden van een goede bron", "stelde open vragen aan de klas",
    "liet leerlingen in tweetallen overleggen", "benoemde het lesdoel op het bord",
    "liep rond en hielp een groepje dat vastliep", "gebruikte wisbordjes om te controleren",
    "sloot af met een exit ticket", "reageerde rustig op onrust achterin",
    "koppelde de opdracht aan de vorige les", "gaf feedback op het proces",
    "gaf 12 voorbeelden van breuken", "werkte met een stappenplan van vier stappen",
    "verwees naar de theorie van directe instructie", "liet de klas zelf regels formuleren",
    "differentieerde met drie niveaus", "checkte begrip met een korte quiz",
    "hield de tijd goed in de gaten", "gaf een compliment aan de hele groep",
    "maakte oogcontact met leerlingen achterin", "herhaalde de instructie voor twee leerlingen",
]
_EXTRAS = ["in lokaal 2.14", "om 10.45 uur", "op 12-03-2026", "in 3 havo", "in blok 4",
           "met 28 leerlingen", "tijdens het derde lesuur", "op dinsdag 5 maart",
           "volgens de kijkwijzer", "bij indicator 2.3"]
_PII = ["06-12345678", "s.devries@student.example.nl", "studentnummer 1012345",
        "+31 6 8765 4321", "tel. 020 123 4567"]


def make_notes(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    people = [name for name, role in ROSTER if role != "school"]
    notes = []
    for _ in range(n):
        words: list[str] = []
        target = rng.randint(10, 40)
        while len(words) < target:
            sentence = f"{rng.choice(_OPENERS)} {rng.choice(_PHRASES)}"
            r = rng.random()
            if r < 0.17:
                name = rng.choice(people).split()
                who = rng.choice([name[0], name[-1], " ".join(name)])
                sentence = f"{who} {rng.choice(_PHRASES)}"
            if rng.random() < 0.10:
                sentence += " " + rng.choice(_EXTRAS)
            if rng.random() < 0.025:
                sentence += " (" + rng.choice(_PII) + ")"
            words.extend((sentence + ".").split())
        notes.append(" ".join(words[:target]).rstrip(".") + ".")
    return notes


def _load(module_path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, module_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _baseline_module(rev: str, tmp: Path):
    root = Path(__file__).resolve().parent.parent
    try:
        src = subprocess.run(["git", "-C", str(root), "show", f"{rev}:src/calibrate/privacy.py"],
                             check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = tmp / "privacy_floor.py"
    path.write_text(src, encoding="utf-8")
    return _load(path, "privacy_floor")


def _pseudonymiser(module):
    roster = module.load_roster([{"name": n, "role": r} for n, r in ROSTER])
    rows = roster.fingerprints(KEY)
    return rows, module


def bulk_rate(module, rows, notes: list[str]) -> float:
    p = module.Pseudonymiser.from_fingerprints(rows, key=KEY)
    t0 = time.perf_counter()
    for note in notes:
        p.pseudonymise(note)
    return len(notes) / (time.perf_counter() - t0)


def save_time(module, rows, notes: list[str]) -> float:
    t0 = time.perf_counter()
    p = module.Pseudonymiser.from_fingerprints(rows, key=KEY)
    for note in notes:
        p.pseudonymise(note)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--saves", type=int, default=50)
    parser.add_argument("--baseline", default="4d488ef", help="git revision of the floor matcher")
    args = parser.parse_args(argv)

    from calibrate import privacy as current

    notes = make_notes(args.notes)
    words = [len(n.split()) for n in notes]
    print(f"corpus: {len(notes):,} notes, {min(words)}-{max(words)} words (mean {statistics.mean(words):.1f}), "
          f"roster of {len(ROSTER)} names; load average {os.getloadavg()[0]:.2f}")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        floor = _baseline_module(args.baseline, Path(tmp))
        matchers = [("new", current)] + ([("floor", floor), ("old-rows", current)] if floor is not None else [])
        if floor is None:
            print(f"floor: git revision {args.baseline} not readable; absolute figures only")
        prepared = {label: _pseudonymiser(m) for label, m in matchers if label != "old-rows"}
        if floor is not None:
            # a workspace imported by the floor version: its rows (old fold, no coverage rows,
            # a school on the roster) read by the new matcher, which then tries every run
            prepared["old-rows"] = (prepared["floor"][0], current)
        rates: dict[str, list[float]] = {label: [] for label, _ in matchers}
        for _ in range(args.repeat):  # interleaved, so a busy spell hits both
            for label, _m in matchers:
                rows, module = prepared[label]
                rates[label].append(bulk_rate(module, rows, notes))
        print("\n1. bulk pseudonymisation (notes/s, best of {}; all runs)".format(args.repeat))
        for label, _m in matchers:
            runs = ", ".join(f"{r:,.0f}" for r in rates[label])
            print(f"   {label:8s}: {max(rates[label]):>9,.0f}   ({runs})")
        if floor is not None:
            for label in ("new", "old-rows"):
                ratio = max(rates["floor"]) / max(rates[label])
                verdict = "ok" if ratio <= RATIO_TARGET else "TOO SLOW"
                print(f"   slowdown {label} vs floor: {ratio:.2f}x (target <= {RATIO_TARGET:.1f}x) {verdict}")
                ok &= ratio <= RATIO_TARGET

        save_notes = notes[:SAVE_ITEMS]
        print(f"\n2. one save: {SAVE_ITEMS} notes from a cold pseudonymiser (median / max of {args.saves}, ms)")
        for label, _m in matchers:
            rows, module = prepared[label]
            times = [save_time(module, rows, save_notes) for _ in range(args.saves)]
            med = statistics.median(times)
            print(f"   {label:8s}: {med * 1000:6.1f} / {max(times) * 1000:6.1f}")
            if label == "new":
                share = med / SAVE_BUDGET_S
                print(f"   {label} uses {share:.0%} of the {SAVE_BUDGET_S * 1000:.0f} ms save budget (target < 50%)")
                ok &= share < 0.5
    print(f"\nload average after: {os.getloadavg()[0]:.2f} (the machine is shared; figures vary run to run)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

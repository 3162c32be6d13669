#!/usr/bin/env python3
"""Writes the seed corpora of the `questionnaire` and `forms` fuzz targets (see README.md).

    python3 fuzz/make_domain_seeds.py

questionnaire: up to four parts separated by NUL: an instrument in JSON, the "own
questionnaire" form (six fields separated by 0x1F), a schedule, answer bytes. forms: up to
eight form fields separated by NUL. Rerun after changing the built-in instruments; the files
are overwritten, others in the directories are left alone.
"""

import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
INSTRUMENTS = HERE.parent / "crates" / "duurloop-domain" / "instruments"
US = "\x1f"


def text(nl, en=""):
    return {"nl": nl, "en": en} if en else {"nl": nl}


def options(values):
    return [{"value": v, "text": text(f"Antwoord {v}")} for v in values]


def item(code, values, reverse=False):
    out = {"code": code, "text": text(f"Vraag {code}"), "options": options(values)}
    if reverse:
        out["reverse"] = True
    return out


def instrument(code, items, rule, **extra):
    out = {
        "code": code,
        "version": "1",
        "title": text("Proef", "Toy"),
        "licence": "test",
        "source": "test",
        "items": items,
        "rule": rule,
        "higher_is_better": extra.pop("higher_is_better", False),
    }
    out.update(extra)
    return out


def band(code, lo, hi, clinical):
    return {"code": code, "min": lo, "max": hi, "label": text(code), "clinical": clinical}


# Small definitions that reach every rule: a mean with a reverse item, subscales and one
# answer allowed open; a scaled sum with items on different scales; negative options.
SMALL = {
    "mean_subscales": instrument(
        "stemming",
        [item("s_1", [1, 2, 3, 4, 5]), item("s_2", [1, 2, 3, 4, 5], reverse=True),
         item("s_3", [1, 2, 3, 4, 5]), item("s_4", [1, 2, 3, 4, 5])],
        {"kind": "mean"},
        max_missing=1,
        higher_is_better=True,
        subscales=[
            {"code": "a", "title": text("Deel A"), "items": ["s_1", "s_2"]},
            {"code": "b", "title": text("Deel B"), "items": ["s_3", "s_4"]},
        ],
        bands=[band("laag", 1, 2.5, True), band("hoog", 2.75, 5, False)],
        reliable_change={"sd": 0.8, "reliability": 0.85, "cutoff": 2.5, "source": "test"},
        safety=[{"item": "s_3", "min_value": 5, "message": text("Bel 113")}],
    ),
    "scaled_mixed_scales": instrument(
        "gemengd",
        [item("g_1", [0, 1, 2, 3]), item("g_2", [0, 1]), item("g_3", [0, 5, 10], reverse=True)],
        {"kind": "scaled_sum", "factor": 4},
        loinc_total="12345-6",
        bands=[band("laag", 0, 20, False), band("hoog", 24, 56, True)],
        reliable_change={"sd": 9.5, "reliability": 0.7, "cutoff": 24, "source": "test"},
    ),
    # Finding 2 (README): the same with one answer allowed open, refused since.
    "prorated_mixed_scales": instrument(
        "gemengd",
        [item("g_1", [0, 1, 2, 3]), item("g_2", [0, 1]), item("g_3", [0, 5, 10], reverse=True)],
        {"kind": "scaled_sum", "factor": 4},
        max_missing=1,
        loinc_total="12345-6",
        bands=[band("laag", 0, 20, False), band("hoog", 24, 56, True)],
        reliable_change={"sd": 9.5, "reliability": 0.7, "cutoff": 24, "source": "test"},
    ),
    # Finding 3 (README): a standard deviation so small that Sdiff rounds to 0, refused since.
    "tiny_sd": instrument(
        "klein",
        [item("k_1", [0, 1, 2]), item("k_2", [0, 1, 2])],
        {"kind": "sum"},
        reliable_change={"sd": 5e-324, "reliability": 0.85, "cutoff": 2, "source": "test"},
    ),
    "negative_sum": instrument(
        "_",
        [item("min", [-1000, 0, 1000]), item("plus", [-2, -1], reverse=True)],
        {"kind": "sum"},
        intro=text("Kies", "Choose"),
        bands=[band("all", -1002, 999, False)],
        safety=[{"item": "plus", "min_value": -1, "message": text("Hulp")}],
    ),
}

FORMS = {
    "energie": ["eigen_0a1b2c", " Energie ", "Ik voel me fit\n(-) Ik ben snel moe\n\nIk slaap goed",
                "0 Nooit\n1 Soms\n2 Vaak", "yes", "3,5"],
    "klachten": ["klachten", "Klachten", "Een\nTwee\n(-)Drie\nVier", "0 Niet\n1 Wat\n2 Veel\n3 Heel veel",
                 "", "8"],
    "code_taken": ["phq9", "Mijn PHQ", "Een\nTwee", "0 Nee\n1 Ja", "no", ""],
    # Finding 1 (README): the lowest i64 as an option value.
    "lowest_option": ["eigen_x", "T", "Een\n(-)Twee", "-9223372036854775808 Nooit\n1 Vaak", "", "0,5"],
}

SCHEDULES = [
    "baseline,week5,week10,end,followup3,followup6",
    " end, baseline ,week3,followup12",
    "baseline,followup24,week25",
]

# Answer bytes: one per item (below 0xE0 an option, 0xE0.. open, 0xF0.. a number, 0xF8.. past
# the scale), then a count of extra answers.
ANSWERS = [b"", b"\x01\x02\x03\x00\x01\x02\x03\x00\x01\x03", b"\xe0\x01\xf8\x02\xf0\x7f\xff\xff\xff\xff\xff\xff\xff\x01"]

FORM_SEEDS = {
    "address": ["8232 AB", "anna.de.vries@praktijk.nl", "+31 (0)6 12345678", "Anna de Vries",
                " 1000 ", "Huisartsenpraktijk Medi-Stad"],
    "phones": ["06-12345678", "0031612345678", "020 123 4567", "+31612345678", "(06) 12345678",
               "+31-6-1234-5678", "06.12.34.56.78"],
    "emails": [" Anna.de.Vries@Praktijk-MediStad.nl ", "\u0130@x.nl", "a@b.c", "an na@praktijk.nl",
               "anna@prak..tijk.nl"],
    "password": ["rustig lopen 3x", "rustig lopen 3x"],
    "password_mismatch": ["twaalf teken", "twaalf tekens"],
    "clearance": ["Dr. J. Jansen, huisarts", "2024-02-29", "Alleen wandelen\nde eerste 4 weken."],
    "screen": [f"{q}=no" for q in [
        "heart_condition_or_high_blood_pressure", "chest_pain", "dizziness_or_fainting",
        "other_chronic_condition", "medication_for_chronic_condition", "bone_joint_problem",
        "medically_supervised_only"]] + ["chest_pain= no "],
    "screen_flagged": [f"{q}={a}" for q, a in [
        ("heart_condition_or_high_blood_pressure", "no"), ("chest_pain", "yes"),
        ("dizziness_or_fainting", "no"), ("other_chronic_condition", "yes"),
        ("medication_for_chronic_condition", "no"), ("bone_joint_problem", "no"),
        ("medically_supervised_only", "no")]],
    "week_intervals": ["intervals", "3", "2", "1", "8", "5"],
    "week_continuous": ["continuous", "2", "30", "12"],
    "week_walk": ["walk", "4", "90", "1"],
    "amounts": ["\u20ac 1.234,56", "\u20ac1,234.56", "1.234.567", "12,5", "-\u20ac 12,50",
                " 10000000 ", "1.234", "12,505"],
    "csv": ["=SUM(A1)", "-3", "+31 6 1234", "he said \"hi\"", "Utrecht; Zeist", "\t=1", "-1e5",
            "@cmd"],
    "numbers": ["72", " 045 ", "16", "100", "230", "300", "10", "99999"],
    "enums": ["present", "absent_notice", "gp_practice", "coordinator", "runner", "pain",
              "group_session", "intake_planned"],
    "enums2": ["sent", "completed", "drop_out", "insurer", "self_registration", "moderate",
               "chest_pain", "running_group"],
    "totp": ["GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "287 082", "gezd gnbv gy3t qojq", "GEZDGNBVGY3TQOJQ====",
             "081804"],
    "schedule": SCHEDULES + ["baseline,week5, week5", "week5,end"],
    # At the length limits: a 254-byte address with a 64-byte local part, a 200-character
    # name, a 128-character password (twice).
    "long_fields": ["a" * 64 + "@" + "b" * 185 + ".nl", "é" * 200, "p" * 128, "p" * 128],
}


def shorten(value):
    """The same definition with every text cut to 16 characters: small seeds mutate faster,
    and no rule looks at the length of a text (the .json files keep the full texts)."""
    if isinstance(value, dict):
        return {k: (v[:16] if isinstance(v, str) and k in ("nl", "en", "licence", "source")
                    else shorten(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [shorten(v) for v in value]
    return value


def write(directory, name, data):
    path = HERE / "corpus" / directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def main():
    for source in sorted(INSTRUMENTS.glob("*.json")):
        write("questionnaire", source.name, source.read_bytes())
        compact = json.dumps(shorten(json.loads(source.read_text())), ensure_ascii=False,
                             separators=(",", ":"))
        for n, answers in enumerate(ANSWERS):
            form = FORMS["klachten"] if n == 1 else FORMS["energie"]
            parts = [compact.encode(), US.join(form).encode(), SCHEDULES[n].encode(), answers]
            write("questionnaire", f"{source.stem}_{n}", b"\0".join(parts))
    for name, definition in SMALL.items():
        compact = json.dumps(definition, ensure_ascii=False, separators=(",", ":"))
        for n, answers in enumerate(ANSWERS):
            form = list(FORMS.values())[n]
            parts = [compact.encode(), US.join(form).encode(), SCHEDULES[n].encode(), answers]
            write("questionnaire", f"{name}_{n}", b"\0".join(parts))
    for name, form in FORMS.items():
        write("questionnaire", f"form_{name}", b"\0" + US.join(form).encode())
    for name, fields in FORM_SEEDS.items():
        write("forms", name, "\0".join(fields).encode())


if __name__ == "__main__":
    main()

"""Generated fictional protocols for the versions-and-conflicts benchmark (issue 25).

`world(seed) -> World`: for one seed, a few fictional clinic protocols, each in two editions (the
later one changes 2-3 facts: a threshold, an interval, the first-line drug, the age of the screened
population, a duration, whether a test is recommended, how strongly a referral is advised; the
other facts are word for word the same), plus pairs of *different* guidelines (other bodies, other
wording) on one condition that disagree on one fact and agree on the others. Every fact has a
question. Dates are written in the documents ("Version 2.0 - March 2024"), as a real protocol does.

`Question.expect`: "changed" (editions differ: the current edition must come first, the change
shown), "unchanged" (no conflict may be reported), "disagree" (two guidelines: the conflict must be
shown). The seed's split is `ragmed.eval.beir.split_of(f"seed{seed}")` (sha1 first hex digit 0-b dev).
Everything here is invented: no real clinic, and the values are not clinical advice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

CLINICS = ["Harbourview", "Eastmoor", "Larchfield", "Kestrel Bay", "Millbrook", "Orchard Vale", "Stonegate",
           "Westhaven", "Brightwater", "Ashcombe", "Fernhill", "Redcliff"]
BODIES = ["Northfield Health Board", "Riverside Medical Society", "Coastal Primary Care Network",
          "Highland Clinical Council"]
CONDITIONS = [  # condition, marker, unit, marker values, drugs, test, sign
    ("hypertension", "systolic blood pressure", "mmHg", [130, 135, 140, 150, 160], ["amlodipine", "ramipril", "losartan", "lisinopril"], "potassium", "chest pain"),
    ("type 2 diabetes", "HbA1c", "%", [6.5, 7, 7.5, 8, 8.5], ["metformin", "insulin", "sitagliptin", "gliclazide"], "kidney function", "foot ulcers"),
    ("hyperlipidaemia", "LDL cholesterol", "mmol/L", [2.6, 3, 3.4, 4.1, 4.9], ["atorvastatin", "rosuvastatin", "simvastatin", "pravastatin"], "liver enzyme", "muscle pain"),
    ("gout", "serum urate", "mg/dL", [6, 7, 8, 9], ["allopurinol", "febuxostat", "colchicine", "probenecid"], "creatinine", "tophi"),
    ("hypothyroidism", "TSH", "mU/L", [4.5, 6, 8, 10], ["levothyroxine", "liothyronine", "thyroxine", "armour thyroid"], "lipid", "palpitations"),
    ("atrial fibrillation", "heart rate", "beats per minute", [100, 110, 120], ["bisoprolol", "metoprolol", "diltiazem", "digoxin"], "thyroid", "fainting"),
]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]

# fact name -> (section, the wording of edition protocols, the other bodies' wording, question)
FACTS = {
    "threshold": ("Starting treatment", "Start {drug} for {cond} when the {marker} is above {v} {unit}.",
                  "Treatment of {cond} with {drug} begins once the {marker} exceeds {v} {unit}.",
                  "At what {marker} should {drug} be started for {cond}?"),
    "interval": ("Follow-up", "Review patients with stable {cond} every {n} months.",
                 "Patients whose {cond} is stable are seen for review every {n} months.",
                 "How often should patients with stable {cond} be reviewed?"),
    "drug": ("First-line treatment", "The first-line drug for {cond} is {drug1} {dose} mg once daily.",
             "For {cond}, {drug1} {dose} mg once daily is the drug of first choice.",
             "What is the first-line drug for {cond}?"),
    "population": ("Screening", "Offer yearly screening for {cond} to adults aged {age} years or older.",
                   "Adults aged {age} years or older should be screened for {cond} every year.",
                   "From what age should adults be screened for {cond}?"),
    "duration": ("Assessing response", "Continue {drug} for {w} weeks before judging the response in {cond}.",
                 "The response to {drug} in {cond} is judged after {w} weeks of treatment.",
                 "How long should {drug} be continued before judging the response in {cond}?"),
    "polarity": ("Monitoring", "Routine {test} testing is {rec} for every patient taking {drug} for {cond}.",
                 "For every patient on {drug} for {cond}, routine {test} testing is {rec}.",
                 "Is routine {test} testing recommended for patients taking {drug} for {cond}?"),
    "strength": ("Referral", "Patients with {cond} and {sign} {modal} be referred to a specialist within {d} days.",
                 "Anyone with {cond} who has {sign} {modal} be referred to a specialist within {d} days.",
                 "When should patients with {cond} and {sign} be referred to a specialist?"),
}
FIXED = [  # statements that never change, with their question
    ("Self-care", "Teach every patient with {cond} to keep a symptom diary and bring it to each visit.",
     "What should patients with {cond} bring to each visit?"),
    ("Education", "Give written information about {cond} at the first visit, in the patient's language.",
     "When should written information about {cond} be given?"),
]


@dataclass
class Doc:
    name: str  # file name
    title: str
    date: str  # ISO "YYYY-MM"
    text: str
    supersedes: str = ""  # file name of the edition it replaces ("" none)


@dataclass
class Question:
    text: str
    expect: str  # "changed" | "unchanged" | "disagree"
    kind: str  # the fact (FACTS key) or "fixed"
    docs: tuple[str, ...]  # the file names holding the fact; for editions (old, current)
    statements: tuple[str, ...] = ()  # the planted sentences that disagree (changed/disagree)


@dataclass
class World:
    seed: int
    docs: list[Doc] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)


def _values(rng: random.Random, cond) -> dict:
    name, marker, unit, vals, drugs, test, sign = cond
    d = rng.sample(drugs, 2)
    return {"cond": name, "marker": marker, "unit": unit, "v": rng.choice(vals), "drug": d[0], "drug1": d[1],
            "dose": rng.choice([5, 10, 20, 25, 50, 100]), "n": rng.choice([3, 6, 12]), "age": rng.choice([40, 45, 50, 60]),
            "w": rng.choice([4, 6, 8, 12]), "test": test, "rec": "recommended", "sign": sign, "modal": "should",
            "d": rng.choice([7, 14, 28])}


def _changed(rng: random.Random, fact: str, v: dict, cond) -> dict:
    w = dict(v)
    pick = lambda xs, old: rng.choice([x for x in xs if x != old])  # noqa: E731
    if fact == "threshold":
        w["v"] = pick(cond[3], v["v"])
    elif fact == "interval":
        w["n"] = pick([3, 6, 12], v["n"])
    elif fact == "drug":
        w["drug1"] = pick(cond[4], v["drug1"])
    elif fact == "population":
        w["age"] = pick([40, 45, 50, 60], v["age"])
    elif fact == "duration":
        w["w"] = pick([4, 6, 8, 12], v["w"])
    elif fact == "polarity":
        w["rec"] = "not recommended"
    elif fact == "strength":
        w["modal"] = "must"
    return w


def _document(title: str, version: str, month: int, year: int, values: dict, wording: int) -> str:
    lines = [f"# {title}", "", f"Version {version} - {MONTHS[month - 1]} {year}", ""]
    for fact, (section, mine, theirs, _) in FACTS.items():
        lines += [f"## {section}", "", (mine if wording == 0 else theirs).format(**values[fact]), ""]
    for section, sent, _ in FIXED:
        lines += [f"## {section}", "", sent.format(**values["fixed"]), ""]
    return "\n".join(lines)


def world(seed: int, protocols: int = 3, disagreeing: int = 2) -> World:
    """The documents and questions of one seed (module docstring)."""
    rng = random.Random(seed)
    out = World(seed)
    conds = rng.sample(CONDITIONS, min(len(CONDITIONS), protocols + disagreeing))
    for i, cond in enumerate(conds[:protocols]):
        clinic = rng.choice(CLINICS)
        base = _values(rng, cond)
        changed = rng.sample(list(FACTS), rng.choice([2, 3]))
        old = {f: base for f in FACTS} | {"fixed": base}
        new = {f: (_changed(rng, f, base, cond) if f in changed else base) for f in FACTS} | {"fixed": base}
        y = rng.choice(range(2015, 2022))
        title = f"{clinic} clinic protocol: {cond[0]}"
        slug = cond[0].replace(" ", "-")
        a = Doc(f"{slug}-protocol-{y}.md", f"{title} {y}", f"{y}-{rng.randint(1, 12):02d}", "")
        b = Doc(f"{slug}-protocol-{y + 2}.md", f"{title} {y + 2}", f"{y + 2}-{rng.randint(1, 12):02d}", "",
                supersedes=a.name)
        a.text = _document(a.title, "1.0", int(a.date[5:]), y, old, 0)
        b.text = _document(b.title, "2.0", int(b.date[5:]), y + 2, new, 0)
        out.docs += [a, b]
        for fact, (_, mine, _, q) in FACTS.items():
            if fact in changed:
                out.questions.append(Question(q.format(**base), "changed", fact, (a.name, b.name),
                                              (mine.format(**old[fact]), mine.format(**new[fact]))))
            else:
                out.questions.append(Question(q.format(**base), "unchanged", fact, (a.name, b.name)))
        for _, _, q in FIXED:
            out.questions.append(Question(q.format(**base), "unchanged", "fixed", (a.name, b.name)))
    for cond in conds[protocols:protocols + disagreeing]:
        b1, b2 = rng.sample(BODIES, 2)
        base = _values(rng, cond)
        fact = rng.choice(list(FACTS))
        other = _changed(rng, fact, base, cond)
        v1 = {f: base for f in FACTS} | {"fixed": base}
        v2 = {f: (other if f == fact else base) for f in FACTS} | {"fixed": base}
        y1, y2 = rng.choice(range(2016, 2020)), rng.choice(range(2020, 2025))
        slug = cond[0].replace(" ", "-")
        d1 = Doc(f"{slug}-{b1.split()[0].lower()}.md", f"{b1}: {cond[0]} guideline", f"{y1}-{rng.randint(1, 12):02d}", "")
        d2 = Doc(f"{slug}-{b2.split()[0].lower()}.md", f"{b2} recommendations on {cond[0]}", f"{y2}-{rng.randint(1, 12):02d}", "")
        d1.text = _document(d1.title, "1.0", int(d1.date[5:]), y1, v1, 0)
        d2.text = _document(d2.title, "3.1", int(d2.date[5:]), y2, v2, 1)
        out.docs += [d1, d2]
        for f, (_, mine, theirs, q) in FACTS.items():
            if f == fact:
                out.questions.append(Question(q.format(**base), "disagree", f, (d1.name, d2.name),
                                              (mine.format(**v1[f]), theirs.format(**v2[f]))))
            else:
                out.questions.append(Question(q.format(**base), "unchanged", f, (d1.name, d2.name)))
    return out

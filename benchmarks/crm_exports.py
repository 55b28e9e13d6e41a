"""Generated CRM exports whose true propensity is known (imported by benchmarks/learning.py and
the tests).

Each row is a lead as a CRM exports it, and whether it was won is a coin weighted by a hidden
propensity built from: nonlinear effects (a company-size sweet spot, visits that saturate,
activity that goes stale), interactions (webinars work for software companies only, visits
count more from senior people, a country-source pair), missing values (blank or `N/A`),
high-cardinality text (a few hundred job titles from seniority x function x wording, a
thousand cities that mean nothing), and rare positives (the intercept is solved so that about
`positive_rate` of rows are won). The propensity itself is the oracle: no model can rank
better than it on average.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

HEADERS = ["Email", "Job Title", "Industry", "Number of Employees", "Annual Revenue", "Country",
           "Lead Source", "Website Visits", "Email Opens", "Days Since Last Activity", "City",
           "Closed Won"]  # fmt: skip
SENIORITY = {"Chief": 1.4, "VP": 1.2, "Head of": 1.0, "Director": 0.8, "Senior": 0.2,
             "": 0.0, "Junior": -0.8, "Intern": -1.6, "Student": -2.0}  # fmt: skip
FUNCTION = {"Operations": 0.8, "IT": 0.6, "Engineering": 0.3, "Finance": 0.2, "Sales": 0.0,
            "Marketing": -0.2, "HR": -0.5, "Legal": -0.6, "Support": -0.3, "Data": 0.4}  # fmt: skip
WORDING = ["{s} {f}", "{s} {f} Manager", "{s} of {f}", "{s} {f} Lead", "{s} {f} Specialist"]
INDUSTRY = {"Software": 0.9, "Logistics": 0.6, "Manufacturing": 0.4, "Retail": 0.0,
            "Healthcare": -0.1, "Finance": 0.2, "Education": -0.9, "Government": -0.7,
            "Media": -0.2, "Energy": 0.1, "Agriculture": -0.4, "Telecom": 0.3}  # fmt: skip
SOURCES = ["Organic", "Paid Search", "Webinar", "Referral", "Trade Show", "Cold Call",
           "Newsletter", "Partner"]  # fmt: skip
SOURCE = {"Organic": 0.0, "Paid Search": -0.1, "Webinar": 0.0, "Referral": 0.8,
          "Trade Show": 0.2, "Cold Call": -0.6, "Newsletter": -0.2, "Partner": 0.5}  # fmt: skip
COUNTRIES = ["US", "GB", "DE", "FR", "NL", "SE", "CA", "AU", "IN", "BR", "ES", "IT", "JP",
             "PL", "MX", "ZA", "SG", "IE", "BE", "CH"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Export:
    """Where it was written, the true propensity of each row and whether it was won."""

    path: Path
    propensity: npt.NDArray[np.float64]
    won: npt.NDArray[np.bool_]


def generate(path: Path, rows: int, *, seed: int = 1, positive_rate: float = 0.08) -> Export:
    """Write a CRM export of `rows` leads; its propensity is returned, never written."""
    rng = np.random.default_rng(seed)
    seniority = rng.choice(list(SENIORITY), rows, p=_zipf(len(SENIORITY), rng))
    function = rng.choice(list(FUNCTION), rows)
    wording = rng.integers(0, len(WORDING), rows)
    titles = np.array([WORDING[w].format(s=s, f=f).strip() for s, f, w
                       in zip(seniority, function, wording, strict=True)])  # fmt: skip
    industry = rng.choice(list(INDUSTRY), rows, p=_zipf(len(INDUSTRY), rng))
    employees = np.round(np.exp(rng.normal(4.8, 1.6, rows))) + 1
    revenue = np.round(employees * np.exp(rng.normal(11.5, 0.5, rows)), -3)
    country = rng.choice(COUNTRIES, rows, p=_zipf(len(COUNTRIES), rng))
    source = rng.choice(SOURCES, rows)
    visits = rng.negative_binomial(1, 0.25, rows)
    opens = rng.poisson(3, rows)
    stale = np.round(rng.exponential(40, rows))
    city = np.array([f"City {k}" for k in rng.zipf(1.3, rows) % 1000])
    senior = np.array([SENIORITY[s] for s in seniority])
    logit = (
        senior + np.array([FUNCTION[f] for f in function])
        + np.array([INDUSTRY[i] for i in industry])
        + 1.1 * np.exp(-0.5 * ((np.log(employees) - np.log(300)) / 0.9) ** 2)  # a sweet spot
        + np.array([SOURCE[s] for s in source])
        + 1.2 * ((source == "Webinar") & (industry == "Software"))  # interaction
        - 0.6 * ((source == "Webinar") & (industry != "Software"))
        + (0.5 + 0.4 * np.clip(senior, 0, None)) * np.log1p(np.minimum(visits, 12))  # saturating
        + 0.05 * opens
        - 0.9 * np.log1p(stale / 30)  # going stale
        + 0.7 * ((country == "DE") & (source == "Trade Show"))
    )  # fmt: skip
    logit += _intercept(logit, positive_rate)
    propensity = 1 / (1 + np.exp(-logit))
    won = rng.random(rows) < propensity
    shares = (
        ("Industry", 0.1),
        ("Number of Employees", 0.15),
        ("Annual Revenue", 0.3),
        ("Days Since Last Activity", 0.1),
        ("Job Title", 0.05),
        ("Country", 0.05),
    )
    blank = {name: rng.random(rows) < share for name, share in shares}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for k in range(rows):
            row = {"Email": f"lead{k}@company{k}.example", "Job Title": titles[k],
                   "Industry": industry[k], "Number of Employees": int(employees[k]),
                   "Annual Revenue": int(revenue[k]), "Country": country[k],
                   "Lead Source": source[k], "Website Visits": int(visits[k]),
                   "Email Opens": int(opens[k]), "Days Since Last Activity": int(stale[k]),
                   "City": city[k], "Closed Won": "yes" if won[k] else "no"}  # fmt: skip
            for name, missing in blank.items():
                if missing[k]:
                    row[name] = "N/A" if k % 2 else ""
            writer.writerow([row[h] for h in HEADERS])
    return Export(path, propensity, won)


def _zipf(count: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    weights = 1 / np.arange(1, count + 1) ** 0.8
    rng.shuffle(weights)
    result: npt.NDArray[np.float64] = weights / weights.sum()
    return result


def _intercept(logit: npt.NDArray[np.float64], rate: float) -> float:
    """The shift that makes the mean propensity `rate` (bisection)."""
    low, high = -30.0, 30.0
    for _ in range(100):
        middle = (low + high) / 2
        if np.mean(1 / (1 + np.exp(-(logit + middle)))) < rate:
            low = middle
        else:
            high = middle
    return (low + high) / 2

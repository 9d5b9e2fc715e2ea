"""GRIST recall: of the 79 numerical bugs in GRIST's 63 subjects (the benchmark DEBAR and
RANUM report on), how many the labeled set holds and how many stablelint finds.

A bug is a subject (``scripts/study_case/ID_<n>/``) and, where the paper splits a subject's
bugs (``ID-9a``, ``ID-9b`` in the site's reason), that letter. A bug is found when one of
its hazard sites is: by a code of the site's family, or (``any``) by any stablelint code.

    python benchmarks/labeled.py --no-download --json /tmp/labeled.json
    python benchmarks/grist.py /tmp/labeled.json
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict

import labeled

GRIST_BUGS = 79  # GRIST (Yan et al., FSE'21), Table 2; DEBAR finds 48, RANUM 79
DEBAR, RANUM = 48, 79


def bug_of(site: labeled.Site) -> str | None:
    subject = re.search(r"study_case/ID_(\d+)/", site.path)
    if "GRIST" not in site.source or site.label != "hazard" or subject is None:
        return None
    named = re.search(r"ID[- ](\d+)([a-z])\b", site.reason)
    letter = named.group(2) if named and named.group(1) == subject.group(1) else ""
    return subject.group(1) + letter


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    result = json.load(open(argv[0], encoding="utf-8"))
    detail = {row["id"]: row for row in result["sites_detail"]}
    bugs: dict[str, list[str]] = defaultdict(list)
    for site in labeled.load_sites():
        bug = bug_of(site)
        if bug is not None:
            bugs[bug].append(site.id)
    found = {bug for bug, ids in bugs.items() if any(detail[i]["codes"] for i in ids if i in detail)}
    found_any = {bug for bug, ids in bugs.items() if any(detail[i]["codes_any"] for i in ids if i in detail)}
    print(f"GRIST bugs: {GRIST_BUGS}; labeled here: {len(bugs)}")
    print(f"found by the family's rule: {len(found)}; by any stablelint code: {len(found_any)}")
    print(f"(DEBAR: {DEBAR}; RANUM: {RANUM})")
    missed = sorted(set(bugs) - found_any, key=lambda b: (int(re.match(r"\d+", b).group()), b))
    print("missed:", " ".join(f"ID-{bug}" for bug in missed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

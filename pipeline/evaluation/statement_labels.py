"""Score stored statement records against hand labels of real news pages.

The labels (tests/statement_labels.jsonl) are JSON lines keyed by page id, one page a line:
`{"page": id, "statements": [{"speaker": as written, "canonical": full name, "kind", "text"}]}`.
The pages stay in ../shared/eval/extraction/html, or in the sibling folder a row names with
`"pages"` (e.g. `"pages": "extraction-wcxb"`, same layout); each goes through the pipeline's own extraction
(`extract_article`) and `attribute_statements`, so what is scored is what would be stored.

A record matches a label when their words overlap by at least half of the longer of the two
(one to one, greedily by overlap). Its speaker is right when the record's speaker name is the
label's canonical name (case and title folded).
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

from pipeline.config import PROJECT_ROOT, Figure
from pipeline.evaluation.statements import warm_up
from pipeline.records import Statement
from pipeline.statements import attribute_statements
from pipeline.statements.novelty import mark_repeats_within, normalise_statement

PAGES = PROJECT_ROOT.parent / "shared" / "eval" / "extraction"
_WORD = re.compile(r"\w+")


def _words(text: str) -> Counter[str]:
    return Counter(_WORD.findall(normalise_statement(text)))


def _overlap(a: Counter[str], b: Counter[str]) -> int:
    return sum((a & b).values())


def _name(s: str) -> str:
    from pipeline.statements.speakers import norm_name, strip_titles

    return norm_name(strip_titles(s))


def load_labels(path: Path) -> list[dict]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SystemExit(f"{path}:{n}: not a JSON line ({exc})") from exc
        if "page" not in row or not isinstance(row.get("statements"), list):
            raise SystemExit(f'{path}:{n}: expected {{"page": id, "statements": [...]}}')
        if not re.fullmatch(r"[\w.-]+", row.get("pages", "extraction")):
            raise SystemExit(f'{path}:{n}: "pages" must name a folder beside eval/extraction, got {row["pages"]!r}')
        out.append(row)
    return out


def page_text(page_id: str, pages: Path = PAGES) -> str:
    """The page's main text as the pipeline extracts it."""
    from pipeline.extract import extract_article

    gold = json.loads((pages / "ground-truth.json").read_text(encoding="utf-8"))
    html = (pages / "html" / f"{page_id}.html").read_bytes()
    return extract_article(html, gold.get(page_id, {}).get("url", "")).text


def match(records: list[Statement], labels: list[dict]) -> list[tuple[int, int]]:
    rw = [_words(r.text) for r in records]
    lw = [_words(lab["text"]) for lab in labels]
    cands = []
    for i, a in enumerate(rw):
        for j, b in enumerate(lw):
            ov = _overlap(a, b)
            if ov and ov >= 0.5 * max(sum(a.values()), sum(b.values())):
                cands.append((ov, i, j))
    cands.sort(reverse=True)
    used_r: set[int] = set()
    used_l: set[int] = set()
    pairs = []
    for _, i, j in cands:
        if i not in used_r and j not in used_l:
            used_r.add(i)
            used_l.add(j)
            pairs.append((i, j))
    return pairs


def evaluate(labels: list[dict], figures: list[Figure], pages: Path = PAGES, dump: Path | None = None) -> dict:
    c: Counter[str] = Counter()
    elapsed = 0.0
    dump_file = dump.open("w", encoding="utf-8") if dump is not None else None
    misses: list[dict] = []
    warm_up(figures)  # untimed: the model load a worker pays once
    for row in labels:
        text = page_text(row["page"], pages.parent / row["pages"] if "pages" in row else pages)
        t0 = time.process_time()
        records = attribute_statements(text, figures)
        mark_repeats_within(records)
        elapsed += time.process_time() - t0
        people = [r for r in records if r.speaker_kind == "person" and r.kind != "stance"]  # statements by people
        golds = row["statements"]
        pairs = match(people, golds)
        c["pages"] += 1
        c["gold"] += len(golds)
        c["records"] += len(people)
        c["matched"] += len(pairs)
        found = {j: i for i, j in pairs}
        for j, g in enumerate(golds):
            if j not in found:
                misses.append({"page": row["page"], "missed": g["text"][:100], "speaker": g["canonical"]})
                continue
            r = people[found[j]]
            ok = _name(r.speaker_name) == _name(g["canonical"])
            c["speaker_ok"] += ok
            c["kind_ok"] += r.kind == g["kind"]
            if not ok:
                misses.append(
                    {"page": row["page"], "text": g["text"][:100], "speaker": g["canonical"], "got": r.speaker_name}
                )
        if dump_file is not None:
            from pipeline.evaluation.statements import dump_line

            dump_file.write(json.dumps(dump_line(row["page"], records), ensure_ascii=False) + "\n")
    if dump_file is not None:
        dump_file.close()
    m = c["matched"]
    return {
        "pages": c["pages"],
        "labels": c["gold"],
        "found": round(m / c["gold"], 4) if c["gold"] else 0.0,
        "precision": round(m / c["records"], 4) if c["records"] else 0.0,
        "speaker_accuracy": round(c["speaker_ok"] / m, 4) if m else 0.0,
        "speaker_right_of_labels": round(c["speaker_ok"] / c["gold"], 4) if c["gold"] else 0.0,
        "kind_accuracy": round(c["kind_ok"] / m, 4) if m else 0.0,
        "articles_per_s": round(c["pages"] / elapsed, 1) if elapsed else 0.0,
        "errors": misses,
    }


def run_labels_eval(path: Path, json_out: bool = False, dump: Path | None = None, pages: Path = PAGES) -> dict:
    from pipeline.evaluation.statements import load_figures

    if not path.is_file():
        print(f"{path}: no such labels file", file=sys.stderr)
        raise SystemExit(2)
    if not (pages / "ground-truth.json").is_file():
        print(f"{pages}: the real pages are absent (../shared/eval/extraction)", file=sys.stderr)
        raise SystemExit(2)
    res = evaluate(load_labels(path), load_figures(), pages, dump)
    if not json_out:
        for e in res["errors"]:
            print(json.dumps(e, ensure_ascii=False))
        print(
            f"{res['pages']} pages, {res['labels']} labelled statements: found {res['found']:.3f}, "
            f"speaker right {res['speaker_accuracy']:.3f} of found ({res['speaker_right_of_labels']:.3f} of all), "
            f"kind right {res['kind_accuracy']:.3f}; precision {res['precision']:.3f} (person records matching a label)"
        )
    out = {k: v for k, v in res.items() if k != "errors"}
    print(json.dumps(out))
    return out

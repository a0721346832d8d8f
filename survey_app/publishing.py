"""Published snapshots: immutable, versioned copies of a survey's analysis, with open data.

``flask analyze`` (or the analysts' page) writes the survey's *draft* results to
``<GENERATED_DIR>/<slug>/``; nothing there is public. Publishing copies that folder
byte for byte to ``<GENERATED_DIR>/published/<slug>/v<N>/``, adds the open data (``data.csv``,
``data.json``) and a ``manifest.json`` with the SHA-256 of every file, and records a
``Snapshot`` row. A published folder is never written again (its files are made read-only):
republishing makes version N+1 beside it, and withdrawing only changes the row, so that the
public page shows the notice instead of the figures. The one exception is a resident's words:
a quote staff withdraw is taken out of every version (``take_out_quotes``), its figures untouched;
publishing never copies a quote no one approves any more.

Every version ever published stays in the public's hands (withdrawing does not take back what
was downloaded), so a new version must not let anyone subtract an earlier one from it and see
how a few respondents answered: the differencing rule (``analysis/differencing.py``). The
analysis already applies it against the versions public when it ran; ``publish`` refuses when
a version was published since, when the survey's number of responses moved by 1 to k - 1
(``publish_refusal`` says how many more are needed), when its trends show another wave of the
series otherwise than that wave's newest published version does, or when a second look at the
files finds anything the rule forbids.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .analysis.differencing import (check_draft, load_public_results, newest_published, responses_needed,
                                    trend_mismatches, with_figures)
from .analysis.pipeline import RESULTS_FILE, read_results
from . import spreadsheet_csv
from .extensions import db
from .models import Snapshot, Survey, utcnow

PUBLISHED_DIR = "published"
MANIFEST = "manifest.json"
DATA_CSV = "data.csv"
DATA_JSON = "data.json"
OPEN_DATA_FORMAT = 1
MAX_NOTICE = 2000

# The columns of data.csv, documented on /results/open-data.
CSV_COLUMNS = (
    ("survey", _l("The survey's web address name (slug).")),
    ("wave", _l("The wave of the survey in its series (1 for a survey on its own).")),
    ("version", _l("The version of the published results.")),
    ("item_code", _l("The question's variable name, or index_<construct> for an index.")),
    ("item_text", _l("The question's wording, or the index's name.")),
    ("item_kind", _l("ordinal (a scale or ordered choice), categorical, multi (several answers allowed), ranking, "
                     "numeric or index.")),
    ("statistic", _l("percent (of those answering, by option), percent_agree (the favourable end of a scale: "
                  "the top two points of a 5-point scale, 7 to 10 of a 0-10 scale), or mean (numbers, 1-5 "
                  "and 0-10 scales, 0-100 index scores); for a ranking, percent is of those answering who "
                  "ranked the option first, and mean_rank its mean place (1 is first; an option a person did "
                  "not rank counts as one place below the last they were asked for).")),
    ("group_variable", _l("Empty for everyone; else the breakdown variable (e.g. district).")),
    ("group_code", _l("The group's answer code in that variable.")),
    ("group_label", _l("The group's name.")),
    ("option_code", _l("For percent and mean_rank rows: the answer's code.")),
    ("option_label", _l("For percent and mean_rank rows: the answer's wording.")),
    ("estimate", _l("The weighted estimate (percent 0-100 or mean); empty when suppressed.")),
    ("ci_low", _l("Lower end of the confidence interval (95%); empty when suppressed.")),
    ("ci_high", _l("Upper end of the confidence interval (95%); empty when suppressed.")),
    ("standard_error", _l("Taylor-linearised standard error; empty when suppressed.")),
    ("respondents", _l("Unweighted number of respondents the estimate rests on; empty when suppressed.")),
    ("suppressed", _l("true when the figure is withheld by disclosure control (too few respondents, or "
                   "it would let a withheld figure be worked out).")),
)


class PublishError(ValueError):
    pass


def snapshot_dir(generated_dir: str | Path, snapshot: Snapshot) -> Path:
    return Path(generated_dir) / snapshot.storage_path


def _number(value):
    return "" if value is None else repr(float(value))


def open_data_rows(results: dict, version: int) -> list[dict]:
    """One row per published figure (see CSV_COLUMNS): everyone, then each breakdown group."""
    rows = []
    base = {"survey": results["survey"]["slug"], "wave": results["survey"].get("wave", 1), "version": version}
    for item in results.get("indices", []) + results.get("questions", []):
        if "estimates" not in item:
            continue  # free text: counted on the page, never published as data
        labels = item.get("labels") or {}
        text = item.get("label") if item.get("kind") == "index" else item.get("text")
        tables = [("", {}, item["estimates"].get("overall") or [])]
        for breakdown in item["estimates"].get("breakdowns") or []:
            names = {g["code"]: g["label"] for g in breakdown.get("groups", [])}
            tables.append((breakdown["variable"], names, breakdown.get("rows") or []))
        for variable, names, table in tables:
            for row in table:
                suppressed = bool(row.get("suppressed")) or row.get("estimate") is None
                option = row.get("option")
                rows.append({
                    **base, "item_code": item["code"], "item_text": text, "item_kind": item["kind"],
                    "statistic": row["statistic"], "group_variable": variable,
                    "group_code": "" if row.get("group") is None else row["group"],
                    "group_label": names.get(row.get("group"), "") if variable else "",
                    "option_code": "" if option is None else option,
                    "option_label": labels.get(str(option), "") if option is not None else "",
                    "estimate": "" if suppressed else _number(row["estimate"]),
                    "ci_low": "" if suppressed else _number(row.get("lci")),
                    "ci_high": "" if suppressed else _number(row.get("uci")),
                    "standard_error": "" if suppressed else _number(row.get("se")),
                    "respondents": "" if suppressed or row.get("n") is None else int(row["n"]),
                    "suppressed": "true" if suppressed else "false",
                })
    return rows


def open_data_csv(results: dict, version: int) -> bytes:
    out = io.StringIO()
    writer = spreadsheet_csv.DictWriter(out, fieldnames=[name for name, _ in CSV_COLUMNS], lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(open_data_rows(results, version))
    return out.getvalue().encode("utf-8")


def open_data_json(results: dict, version: int, published_at: str) -> bytes:
    """The page's own data document, with what identifies the snapshot."""
    document = {"open_data_format": OPEN_DATA_FORMAT, "version": version, "published_at": published_at,
                "results": results}
    return json.dumps(document, indent=1, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` but the manifest itself, by relative path."""
    return {str(p.relative_to(folder)): _sha256(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != MANIFEST}


def public_results(survey: Survey, generated_dir: str | Path) -> list[dict]:
    """The results of every public version (published and withdrawn), oldest first, with ``version``."""
    return load_public_results(db.session.connection(), survey.id, generated_dir)


def trend_refusal(survey: Survey, generated_dir: str | Path, results: dict) -> str | None:
    """Why the draft's trends may not be published now: they show another wave otherwise than its
    newest published version does (withdrawn or published again since the analysis ran)."""
    connection = db.session.connection()
    slugs = {p["slug"] for t in results.get("trends") or [] for s in t["series"] for p in s["points"]}
    shown = {}
    for slug in slugs - {survey.slug}:
        survey_id = db.session.scalar(select(Survey.id).where(Survey.slug == slug))
        shown[slug] = None if survey_id is None else newest_published(connection, survey_id, generated_dir)
    wrong = trend_mismatches(results, shown)
    if not wrong:
        return None
    which = f"wave {wrong[0]}" if len(wrong) == 1 else "waves " + ", ".join(str(w) for w in wrong)
    return (f"Not published: the trends show {which} otherwise than its published results now do (a version "
            "was withdrawn or published since this analysis was run). Run the analysis again, then publish.")


def hidden_figures(results: dict) -> tuple[int, int]:
    """(figures hidden, figures in all) over every item's overall and breakdown estimates."""
    rows = [row for item in results.get("questions", []) + results.get("indices", []) if "estimates" in item
            for table in [item["estimates"].get("overall") or []]
            + [b.get("rows") or [] for b in item["estimates"].get("breakdowns") or []] for row in table]
    return sum(1 for row in rows if row.get("suppressed")), len(rows)


def publish_refusal(survey: Survey, generated_dir: str | Path, results: dict,
                    second_look: bool = True) -> str | None:
    """Why these draft results may not be published now, in plain words (None: they may).

    ``second_look``: also audit the draft's figures against the public versions' from the files
    (a second or two for a large survey: publishing does it, the staff page leaves it out)."""
    public = public_results(survey, generated_dir)
    missing = [d for d in public if d.get("missing")]
    if missing:
        return (f"The files of version {missing[0]['version']} are missing ({missing[0]['missing']}), so a new "
                "version cannot be checked against it. Restore them (from the backup of GENERATED_DIR), "
                "then run the analysis again and publish.")
    checked = set((results.get("differencing") or {}).get("checked_versions", []))
    same = {d["version"] for d in public if {k: v for k, v in d.items() if k != "version"} == results}
    still_public = [v.version for v in versions(survey, fresh=True) if v.version in same and v.status == "published"]
    if still_public:
        return (f"This analysis is public already, as version {still_public[0]}: publishing it again would add an "
                "identical version. Run the analysis again after new responses or a change (weighting, coding, "
                "translations), then publish.")
    # A version made from this very draft (again after a withdrawal) is no news.
    since = [d["version"] for d in public if d["version"] not in checked and d["version"] not in same]
    if since:
        which = (f"Version {since[0]} was" if len(since) == 1
                 else f"Versions {', '.join(str(v) for v in since[:-1])} and {since[-1]} were")
        return (f"{which} published after this analysis was run, so the analysis was not checked "
                f"against {'it' if len(since) == 1 else 'them'}. Run the analysis again, then publish.")
    if results.get("suppressed"):
        return None
    k = int(results["min_cell_size"])
    n = int(results["n_responses"])
    earlier = with_figures(public)
    more = responses_needed(n, [int(d["n_responses"]) for d in earlier], k)
    if more:
        close = [d for d in earlier if 1 <= abs(n - int(d["n_responses"])) < k]
        versions_text = " and ".join(f"version {d['version']} with {int(d['n_responses']):,}" for d in close)
        return (f"Not published: this analysis has {n:,} responses and {versions_text} was published. "
                f"Two public versions whose numbers of responses differ by 1 to {k - 1} would let anyone "
                "subtract one from the other and see how those few people answered (withdrawing a version "
                "does not help: it was public once). "
                f"Collect at least {more:,} more {'response' if more == 1 else 'responses'} ({n + more:,} in all) "
                "and run the analysis again; "
                "until then the published results stay as they are.")
    refusal = trend_refusal(survey, generated_dir, results)
    if refusal:
        return refusal
    problems = check_draft(results, public) if second_look else []
    if problems:
        return ("Not published: together with an earlier version, this analysis would let figures for fewer "
                f"than {k} respondents be worked out ({', '.join(problems[:5])}). Run the analysis again, "
                "then publish.")
    return None


def publish(survey: Survey, generated_dir: str | Path) -> Snapshot:
    """Freeze the survey's current draft results as the next published version (committed)."""
    snapshot, target = publish_uncommitted(survey, generated_dir)
    try:
        db.session.commit()
    except BaseException:
        remove_unpublished(target)
        db.session.rollback()
        raise
    refresh_pages(survey, generated_dir)
    drop_unapproved_quotes(survey, generated_dir)  # one withdrawn while this was being published
    return snapshot


def publish_uncommitted(survey: Survey, generated_dir: str | Path, progress=None) -> tuple[Snapshot, Path]:
    """The next version's files in place and its row flushed, not committed: the caller commits,
    or calls ``remove_unpublished(folder)`` and then rolls back (in that order, so that no other
    publication of the same version can put its folder there in between), then refreshes the
    pages (``refresh_pages``). On a refusal or an error nothing is left behind. ``progress(done,
    total, phase)``, if given, hears each step (the publishing job's page)."""
    steps = ("Checking against the published versions", "Writing the files")
    tell = (lambda step: progress(step + 1, len(steps), steps[step])) if progress else (lambda step: None)
    if survey.status == "draft":
        raise PublishError("A survey in draft has no results to publish; open it and collect responses first.")
    draft = Path(generated_dir) / survey.slug
    results = read_results(generated_dir, survey.slug)
    if results is None:
        raise PublishError("There are no results to publish yet: run the analysis first.")
    tell(0)
    refusal = publish_refusal(survey, generated_dir, results)
    if refusal:
        raise PublishError(refusal)
    tell(1)
    version = (db.session.scalar(select(func.max(Snapshot.version)).where(Snapshot.survey_id == survey.id)) or 0) + 1
    published_at = utcnow()
    relative = f"{PUBLISHED_DIR}/{survey.slug}/v{version}"
    target = Path(generated_dir) / relative
    if target.exists():
        raise PublishError(f"Version {version} already exists on disk ({target}) but not in the database, "
                           "perhaps from a database since replaced, or a publication whose process was killed "
                           "at the very moment it finished; published files are never overwritten. "
                           "Move that folder away if it belongs to no current survey, then publish again.")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".v{version}-", dir=target.parent))
    try:
        shutil.copytree(draft, work, dirs_exist_ok=True)  # results.json and charts, byte for byte
        # ... but for a quote withdrawn since the analysis read it: never published without approval.
        if _without_quotes(results, _quoted(results) - approved_quotes(survey)):
            (work / RESULTS_FILE).write_text(json.dumps(results, indent=1, ensure_ascii=False), "utf-8")
        (work / DATA_CSV).write_bytes(open_data_csv(results, version))
        (work / DATA_JSON).write_bytes(open_data_json(results, version, published_at.isoformat(timespec="seconds")))
        (work / MANIFEST).write_text(json.dumps(manifest(work), indent=1, sort_keys=True), "utf-8")
        for path in work.rglob("*"):
            if path.is_file():
                os.chmod(path, 0o444)
        snapshot = Snapshot(survey_id=survey.id, version=version, status="published", storage_path=relative,
                            created_at=published_at, published_at=published_at)
        db.session.add(snapshot)
        db.session.flush()  # the unique (survey, version) constraint settles a race here
        work.rename(target)
    except BaseException:
        db.session.rollback()
        shutil.rmtree(work, ignore_errors=True)
        raise
    return snapshot, target


def _quoted(results: dict) -> set[str]:
    return {q.get("text") for item in results.get("questions", []) for q in item.get("quotes") or []}


def _without_quotes(results: dict, texts: set[str]) -> bool:
    """Take the quotes with these words out of ``results`` (in place); whether any was there."""
    found = False
    for item in results.get("questions", []):
        quoted = item.get("quotes") or []
        kept = [q for q in quoted if q.get("text") not in texts]
        if len(kept) != len(quoted):
            found, item["quotes"] = True, kept
    return found


def _rewrite(path: Path, content: str) -> None:
    """Replace a file at once (a reader gets the old or the new), keeping its permissions."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.chmod(temporary, os.stat(path).st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def approved_quotes(survey: Survey) -> set[str]:
    from .models import Question, WrittenQuote

    return set(db.session.scalars(select(WrittenQuote.text).join(Question, Question.id == WrittenQuote.question_id)
                                  .where(Question.survey_id == survey.id)))


def take_out_quotes(survey: Survey, texts: set[str], generated_dir: str | Path) -> list[int]:
    """Take quotes (by their words) out of the draft results and out of every version's results
    and open data, whose manifest is made again, then render the pages again. Privacy comes
    before a folder never changing: the figures, all the differencing rule looks at, stay byte for
    byte the same. Each file is checked on its own, so that running it again finishes what a
    failure left half done; one survey's take-outs run one at a time. The versions changed."""
    import fcntl

    if not texts:
        return []
    folder = Path(generated_dir) / PUBLISHED_DIR / survey.slug
    folder.mkdir(parents=True, exist_ok=True)
    changed = []
    with open(folder / ".quotes.lock", "a") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX)
        results = read_results(generated_dir, survey.slug)
        if results is not None and _without_quotes(results, texts):
            _rewrite(Path(generated_dir) / survey.slug / RESULTS_FILE, json.dumps(results, indent=1, ensure_ascii=False))
        for snapshot in sorted(versions(survey, fresh=True), key=lambda v: v.version):
            here = snapshot_dir(generated_dir, snapshot)
            if not (here / RESULTS_FILE).is_file():
                continue
            touched = False
            if (here / DATA_JSON).is_file():
                document = json.loads((here / DATA_JSON).read_text("utf-8"))
                if _without_quotes(document["results"], texts):
                    _rewrite(here / DATA_JSON, json.dumps(document, indent=1, ensure_ascii=False, sort_keys=True))
                    touched = True
            results = json.loads((here / RESULTS_FILE).read_text("utf-8"))
            if _without_quotes(results, texts):
                _rewrite(here / RESULTS_FILE, json.dumps(results, indent=1, ensure_ascii=False))
                touched = True
            made = manifest(here)
            if touched or json.loads((here / MANIFEST).read_text("utf-8")) != made:
                _rewrite(here / MANIFEST, json.dumps(made, indent=1, sort_keys=True))
                changed.append(snapshot.version)
        refresh_pages(survey, generated_dir)
    return changed


def drop_unapproved_quotes(survey: Survey, generated_dir: str | Path) -> list[int]:
    """Take out of every version (and the draft) each quote no one has approved any more: after a
    withdrawal, and after publishing (an analysis or a publication that read a quote before it was
    withdrawn and finished after). The versions changed."""
    found = set()
    draft = read_results(generated_dir, survey.slug)
    if draft is not None:
        found |= _quoted(draft)
    for snapshot in versions(survey, fresh=True):
        path = snapshot_dir(generated_dir, snapshot) / RESULTS_FILE
        if path.is_file():
            found |= _quoted(json.loads(path.read_text("utf-8")))
    return take_out_quotes(survey, found - approved_quotes(survey), generated_dir)


def remove_unpublished(folder: Path) -> None:
    """Take away the files of a version whose row was not committed (never public). Its files are
    read-only, its folders not: removing them needs nothing more."""
    shutil.rmtree(folder, ignore_errors=True)


def refresh_pages(survey: Survey, generated_dir=None) -> None:
    """Every published version's page files again (their list of versions changed)."""
    from .results import static_pages  # the results pages import this module

    static_pages.refresh(survey, generated_dir)


def versions(survey: Survey, fresh: bool = False) -> list[Snapshot]:
    """The survey's published and withdrawn versions, newest first; ``fresh``: as the database has
    them now, even for versions this session read before (another process may have withdrawn one)."""
    query = (select(Snapshot).where(Snapshot.survey_id == survey.id, Snapshot.status.in_(("published", "withdrawn")))
             .order_by(Snapshot.version.desc()))
    if fresh:
        query = query.execution_options(populate_existing=True)
    return db.session.scalars(query).all()


def withdraw(snapshot: Snapshot, notice: str) -> None:
    """Hide a published version's figures behind a public notice (committed). Files stay, unserved."""
    notice = (notice or "").strip()
    if not notice:
        raise PublishError("Write the notice the public will see in place of the results.")
    if len(notice) > MAX_NOTICE:
        raise PublishError(f"Keep the notice under {MAX_NOTICE} characters.")
    if snapshot.status != "published":
        raise PublishError("Only a published version can be withdrawn.")
    snapshot.status = "withdrawn"
    snapshot.withdrawn_at = utcnow()
    snapshot.withdrawal_notice = notice
    db.session.commit()
    refresh_pages(db.session.get(Survey, snapshot.survey_id))

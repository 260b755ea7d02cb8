"""The command line: python -m analysis import | demo | report."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from analysis import spreadsheet, store

EXIT_OK, EXIT_REFUSED = 0, 2
MAX_PROBLEMS_SHOWN = 200

DESCRIPTION = """\
Outcome tools for ketamine and esketamine clinics.

  import   load clinic exports (CSV or .xlsx, layout A tables or a layout B session log; FHIR
           JSON/NDJSON; Synthea CSV)
  demo     build the synthetic demo clinic in a store
  report   the quarterly outcomes report (JSON, CSV, XLSX, HTML or PDF)

The store is --db PATH, else $OUTCOMES_DB, else data/outcomes.duckdb.
Run `python -m analysis COMMAND --help` for the options of a command."""

IMPORT_EPILOG = """\
Layout A: up to three tables, each a CSV file or a sheet of one .xlsx workbook; the kind of
each is told by its header:
  patients     patient_id[, age_band, sex, primary_condition, site, clinician_id]
  sessions     patient_id, session_date, modality[, dose_mg, site, clinician_id]
  assessments  patient_id, assessment_date, instrument (PHQ-9, GAD-7, PCL-5), item_1..item_20
               and/or total
Layout B: a session log, one row per session with the scores taken before it:
  patient_id, session_date, modality, phq9_total, gad7_total, pcl5_total[, phq9_item_1..9,
  gad7_item_1..7, pcl5_item_1..20,
  dose_mg, site, clinician_id]
Dates are YYYY-MM-DD (Excel date cells are fine), or MM/DD/YYYY or DD/MM/YYYY: the order is told
by the column's own dates, else by date_order in settings.toml, and the summary says which.
Modality words may sit in a longer value ('Spravato 84mg', 'Ketamine IM 0.5 mg/kg').
Templates and examples: data/templates, data/examples.

Any other export comes in through a column mapping (--mapping FILE, a TOML file: export header
-> canonical column, value maps, date format, drops); examples for REDCap and an EHR visit
export are in data/mappings, and the dashboard's Data page builds one from an upload.

FHIR R4/STU3 (.json Bundle or resource, .ndjson Bulk Data) and Synthea observations.csv are told
by their content; their patient ids are always replaced by pseudonyms under the clinic's key
($OUTCOMES_KEY, or the .key file beside the store, made on first use). Accepted codes: docs/FHIR.md.

Every row is checked. With any problem nothing is imported, and every problem is listed as
file, row (as your spreadsheet numbers it), column, value and reason. Importing the same file
again changes nothing. Columns that identify a person (names, dates of birth, SSN, MRN,
email, phone, address, ZIP) are refused: remove them or name them in --drop-columns. An MRN
column can be the patient key through --pseudonymize: each value becomes a keyed pseudonym
(HMAC-SHA256 under the clinic's key) before anything is checked or stored.

Exit status: 0 imported, 2 refused (nothing changed).

Examples:
  python -m analysis import --db data/clinic.duckdb sessions.csv assessments.csv
  python -m analysis import --db data/clinic.duckdb clinic.xlsx --drop-columns first_name,dob
  python -m analysis import --db data/clinic.duckdb log.csv --skip-invalid
  python -m analysis import --db data/clinic.duckdb visits.csv --pseudonymize
  python -m analysis import --db data/clinic.duckdb export/Observation.ndjson export/Patient.ndjson"""


def _store_path(argument: str | None) -> Path:
    return Path(argument).expanduser() if argument else store.db_path_from_env()


def _print_progress(fraction: float, message: str) -> None:
    print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)


class _ErrorLog(logging.Handler):
    """Writes an unexpected error's traceback to a file, so the terminal shows only sentences."""

    def __init__(self, path: Path):
        super().__init__(logging.ERROR)
        self.path = path
        self.written = False
        self.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            with self.path.open("a", encoding="utf-8") as file:
                file.write(self.format(record) + "\n")
            self.written = True
        except OSError:
            self.handleError(record)


@contextlib.contextmanager
def _errors_logged_beside(store_path: Path) -> Iterator[_ErrorLog]:
    """Route the importer's error log to <store>.errors.log for the length of one import."""
    logger = logging.getLogger("analysis")
    handler = _ErrorLog(store_path.with_name(store_path.name + ".errors.log"))
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False  # else Python's last-resort handler prints the traceback too
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _run_import(args: argparse.Namespace) -> int:
    from analysis import ingest
    from analysis.engine.timeline import save_report_cache
    from analysis.ingest.mapping import load_mapping
    from analysis.ingest.pseudonyms import backup_warning, load_key
    from analysis.settings import load_settings

    drop = [c.strip() for c in (args.drop_columns or "").split(",") if c.strip()]
    started = time.perf_counter()
    path = _store_path(args.db)
    mapping = load_mapping(args.mapping) if args.mapping else None
    key = None
    # FHIR and Synthea files are always pseudonymised; the key given for them would pseudonymise the
    # other files of the same import too, so those must say so with --pseudonymize.
    always = [name for name in args.files if _needs_pseudonyms(name)]
    if always and not args.pseudonymize and len(always) < len(args.files):
        others = ", ".join(Path(name).name for name in args.files if name not in always)
        print(
            f"Problems:\n  {', '.join(Path(n).name for n in always)}: FHIR and Synthea files are always imported "
            f"under pseudonyms; import {others} separately, or add --pseudonymize if their patient ids are "
            "source ids too.\nImport refused: 1 problem(s); nothing was changed in the store.",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    if args.pseudonymize or always:
        key = load_key(path)
        if key.created:
            print(f"Warning: {backup_warning(key)}", file=sys.stderr)
        elif not args.quiet:
            print(f"Pseudonym key {key.fingerprint} ({key.source}).", file=sys.stderr)
    with store.opened(path) as con, _errors_logged_beside(path) as error_log:
        result = ingest.import_files(
            con,
            args.files,
            skip_invalid=args.skip_invalid,
            drop_columns=drop,
            progress=None if args.quiet else _print_progress,
            pseudonym_key=key,
            mapping=mapping,
        )
        imported_in = time.perf_counter() - started
        if not result.refused:
            if not args.quiet:
                _print_progress(1.0, "Computing outcomes for reports and the dashboard")
            save_report_cache(con, load_settings())
    shown = result.problems[:MAX_PROBLEMS_SHOWN]
    heading = "Problems" if result.refused else "Rows set aside in quarantine"
    if shown:
        print(f"{heading}:", file=sys.stderr)
        for problem in shown:
            print(f"  {problem.sentence()}", file=sys.stderr)
        if len(result.problems) > len(shown):
            print(
                f"  … and {len(result.problems) - len(shown)} more; write them all with --problems FILE.",
                file=sys.stderr,
            )
    if args.problems and result.problems:
        Path(args.problems).write_text(spreadsheet.csv_text(result.problems_frame()), encoding="utf-8")
        print(f"All {len(result.problems)} problems written to {args.problems}.", file=sys.stderr)
    if error_log.written:
        print(f"The details for a bug report are in {error_log.path}.", file=sys.stderr)
    if result.refused:
        print(result.summary_line(), file=sys.stderr)
        if not args.skip_invalid and any(p.row is not None for p in result.problems):
            print(
                "Fix the rows above, or load the valid rows with --skip-invalid (the rest go to quarantine).",
                file=sys.stderr,
            )
        return EXIT_REFUSED
    print(
        f"{result.summary_line()} ({imported_in:.1f} s; outcomes computed for reports in "
        f"{time.perf_counter() - started - imported_in:.1f} s)"
    )
    return EXIT_OK


def _needs_pseudonyms(name: str) -> bool:
    """Whether a named file is a FHIR or Synthea export (told from its first bytes)."""
    from analysis.ingest.sources import needs_pseudonyms

    try:
        with open(name, "rb") as handle:
            return needs_pseudonyms(handle.read(65536))
    except OSError:
        return False  # the importer names the missing or unreadable file


def _run_demo(args: argparse.Namespace) -> int:
    from analysis.demo import build as demo_store

    path = _store_path(args.db)
    summary = demo_store.build(path, n_patients=args.patients, seed=args.seed, end_date=args.end_date)
    print(summary)
    return EXIT_OK


def _run_report(args: argparse.Namespace) -> int:
    from analysis.reporting import export as report_export

    return report_export.run_cli(args)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    importing = commands.add_parser(
        "import",
        help="load clinic exports into the store",
        description="Load clinic exports into the store, all or nothing.",
        epilog=IMPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    importing.add_argument("files", nargs="+", metavar="FILE", help="CSV or .xlsx files to import together")
    importing.add_argument("--db", metavar="PATH", help="the store (default: $OUTCOMES_DB or data/outcomes.duckdb)")
    importing.add_argument(
        "--skip-invalid",
        action="store_true",
        help="load the valid rows and keep invalid ones, with reasons, in quarantine",
    )
    importing.add_argument(
        "--drop-columns", metavar="C1,C2", help="columns to leave out before checking (e.g. identifying columns)"
    )
    importing.add_argument(
        "--mapping",
        metavar="MAPPING.toml",
        help="a column mapping for exports in another shape (examples in data/mappings; the Data page makes one)",
    )
    importing.add_argument(
        "--pseudonymize",
        action="store_true",
        help="replace each patient_id (or an MRN column standing in for it) with a keyed pseudonym before "
        "any check; the key is $OUTCOMES_KEY or a file beside the store, created on first use",
    )
    importing.add_argument("--problems", metavar="FILE", help="also write every problem to this CSV file")
    importing.add_argument("--quiet", action="store_true", help="no progress lines")
    importing.set_defaults(run=_run_import)

    demo = commands.add_parser(
        "demo",
        help="build the synthetic demo clinic",
        description="Build a deterministic synthetic clinic (no real patients) in a store.",
    )
    demo.add_argument("--db", metavar="PATH", help="the store to fill (default: $OUTCOMES_DB or data/outcomes.duckdb)")
    demo.add_argument("--patients", type=_positive, default=400, metavar="N", help="number of patients (default 400)")
    demo.add_argument("--seed", type=int, default=7, metavar="S", help="random seed (default 7)")
    demo.add_argument("--end-date", type=_date, metavar="YYYY-MM-DD", help="last day of demo data (default today)")
    demo.set_defaults(run=_run_demo)

    reporting = commands.add_parser(
        "report",
        help="the quarterly outcomes report",
        description="The quarterly cohort report (docs/DEFINITIONS.md). Small counts (1 to the settings' "
        "suppression_max, 10 by default) are suppressed "
        "unless --no-suppress is given for internal use.",
        epilog="Examples:\n  python -m analysis report --quarter 2026Q1 --format pdf --out q1.pdf\n"
        "  python -m analysis report --period 2026H1 --format html --out h1.html   (half-year)\n"
        "  python -m analysis report --period 2026 --format xlsx --out 2026.xlsx   (year)\n"
        "  python -m analysis report --quarter all --format json --no-suppress\n"
        "A small clinic's quarter is mostly suppressed; a half-year or a year is the way out.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    reporting.add_argument("--db", metavar="PATH", help="the store (default: $OUTCOMES_DB or data/outcomes.duckdb)")
    reporting.add_argument(
        "--quarter",
        "--period",
        dest="quarter",
        default="all",
        metavar="2026Q1|2026H1|2026|all",
        help="courses that started in this quarter, half-year or year, or all (default)",
    )
    reporting.add_argument(
        "--format",
        default="json",
        choices=("json", "csv", "xlsx", "html", "pdf"),
        help="output format (default json)",
    )
    reporting.add_argument(
        "--out", metavar="FILE", help="write here instead of standard output (required for xlsx and pdf)"
    )
    reporting.add_argument(
        "--no-suppress",
        action="store_true",
        help="show small counts (internal use only; the output says so)",
    )
    reporting.add_argument("--settings", metavar="FILE", help="settings file (default settings.toml)")
    cohort = reporting.add_argument_group(
        "cohort filters (the dashboard's sidebar; repeat an option for several values)"
    )
    cohort.add_argument("--start-from", type=_date, metavar="YYYY-MM-DD", help="courses starting on or after this date")
    cohort.add_argument("--start-to", type=_date, metavar="YYYY-MM-DD", help="courses starting on or before this date")
    for option, metavar in (
        ("site", "SITE"),
        ("clinician", "ID"),
        ("modality", "MODALITY"),
        ("condition", "CONDITION"),
        ("age-band", "BAND"),
        ("sex", "SEX"),
    ):
        cohort.add_argument(f"--{option}", action="append", default=[], metavar=metavar)
    reporting.set_defaults(run=_run_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_REFUSED
    try:
        return args.run(args)
    except (store.StoreError, ValueError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("Stopped; nothing was changed in the store.", file=sys.stderr)
        return EXIT_REFUSED

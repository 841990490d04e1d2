"""Data: upload and import DMS files with a mapping preview, import history with rollback, quality checks."""

import hashlib
import json

import streamlit as st

from analytics import ingest
from analytics.core.errors import UserError
from analytics.devtools import demo
from analytics.domain import quality
from analytics.store import audit
from ui.auth import authorize, can, current_user, protect, protect_text, record
from ui.data import audit_reading, clear_caches, load, reading, writing
from ui.formatting import detail_words, plain
from ui.i18n import lang, t
from ui.state import filters
from ui.widgets import download_buttons, field_label, mapping_editor, people_table, progress_bar, show_table


def parsed_upload(content: bytes, name: str, kind: str | None = None) -> ingest.RawTable:
    """Return the upload read once per content and kind asked for (issue 19 item 14): reruns reuse it
    from the session."""
    key = hashlib.sha256(content).hexdigest() + (kind or "")
    kept: dict[str, ingest.RawTable] = st.session_state.setdefault("parsed_uploads", {})
    if key not in kept:
        # Only the files of the current upload are kept, so the session does not grow without end.
        if len(kept) > 8:
            kept.clear()
        kept[key] = ingest.read_table(content, name, kind)
    return kept[key]


def stored_now(summary: dict) -> None:
    """Say what the database holds and what the last import brought, and what an upload does:
    a first-time user of the tab sees more than an empty drop zone."""
    lines = [
        t(
            "data.stored_now",
            orders=f"{summary['orders']:,}",
            callbacks=f"{summary['callbacks']:,}",
            first=summary["first_visit"] or "-",
            last=summary["last_visit"] or "-",
            imports=f"{summary['imports']:,}",
        )
    ]
    history = load("imports.log")
    done = history[history["status"] == "done"] if not history.empty else history
    if not done.empty:
        latest = done.iloc[0]
        finished = latest["finished_at"]
        lines.append(
            t(
                "data.last_import",
                file=plain(protect_text(str(latest["file_name"]))),
                kind=t(f"import_kind.{latest['kind']}") if latest["kind"] in ("service", "callback") else "-",
                when=str(finished)[:16] if finished is not None else "-",
                rows=f"{int(latest['rows_read'] or 0):,}",
            )
        )
    lines.append(t("data.upload_what"))
    st.caption("  \n".join(lines))


def import_tab() -> None:
    """Offer the demo on an empty database, then upload, map, check and import files."""
    summary = load("facts.summary")
    if not summary["orders"] and not summary["callbacks"]:
        with st.container(border=True):
            st.subheader(t("data.demo_title"))
            st.write(t("data.demo_body"))
            if st.button(t("data.demo_button"), type="primary", key="build_demo") and authorize("demo"):
                with writing() as cur:
                    result = demo.build_into(cur, progress=progress_bar(t("data.demo_button")))
                clear_caches()
                record("import", {"file": "demo", "kind": "demo", "inserted": result["sizes"]})
                st.success(
                    t(
                        "data.demo_done",
                        orders=f"{result['sizes']['orders']:,}",
                        callbacks=f"{result['sizes']['callbacks']:,}",
                    )
                )

    uploads = st.file_uploader(
        t("data.upload"),
        type=["csv", "txt", "xlsx", "xls", "xml", "htm", "html"],
        accept_multiple_files=True,
        help=t("data.upload_help"),
        key="uploads",
    )
    if not uploads and (summary["orders"] or summary["callbacks"]):
        stored_now(summary)
    for number, upload in enumerate(uploads or []):
        content = upload.getvalue()
        with st.container(border=True):
            try:
                raw = parsed_upload(content, upload.name)
            except UserError as exc:
                st.error(t("data.refused", file=plain(upload.name), reason=plain(exc.words(lang()))))
                continue
            st.markdown(
                "**"
                + t(
                    "data.file_header",
                    file=plain(upload.name),
                    encoding=raw.encoding or raw.format,
                    row=raw.header_row,
                    n=len(raw.rows),
                )
                + "**"
            )
            kinds = ["service", "callback"]
            detected = ingest.detect_kind(raw.headers)
            if detected is None:
                st.warning(t("data.kind_unknown"))
            elif ingest.both_kinds(raw.headers):
                st.warning(t("data.kind_both"))
            # Translated labels as options (not format_func) keep the choice stable in tests too.
            labels = {t(f"data.kind_{k}"): k for k in kinds}
            chosen_label = st.radio(
                t("data.kind"),
                list(labels),
                index=kinds.index(detected) if detected in kinds else 0,
                horizontal=True,
                key=f"kind_{number}",
            )
            kind = labels[chosen_label]
            if kind != detected and raw.sheets and len(raw.sheets) > 1:
                # A workbook with sheets of both kinds gives the sheets of the kind chosen.
                raw = parsed_upload(content, upload.name, kind)
            st.caption(t("data.mapping_help"))
            mapping = mapping_editor(raw, kind, key=f"mapping_{number}")
            # issue 14: a field guessed from a column's values is shown for confirmation; a field set
            # to "not mapped" stays out (an empty header), so neither an alias nor a guess brings it back.
            guesses = ingest.suggested_mapping(raw, kind)[1]
            shown = {f: h for f, h in guesses.items() if mapping.get(f) == h}
            if shown:
                st.warning(
                    t(
                        "data.guessed",
                        # A header is whatever the file says: shown as text, never as a link.
                        guesses=", ".join(f"{plain(h)} → {field_label(f)}" for f, h in shown.items()),
                    )
                )
            # Two columns of one field qualified alike (进厂里程(客户报), 进厂里程(仪表)) are left unmapped
            # until one is chosen, as the command line refuses them until a mapping names one.
            ambiguous = {
                f: hs for f, hs in ingest.ambiguous_fields(raw.headers, kind).items() if not mapping.get(f)
            }
            if ambiguous:
                st.warning(
                    t(
                        "data.ambiguous",
                        columns="; ".join(
                            f"{field_label(f)}: {plain(' / '.join(hs))}" for f, hs in ambiguous.items()
                        ),
                    )
                )
            # A score column's scale is decided from its values; a file whose answers fit a narrower
            # scale (a 0-10 survey of low answers reads as 1-5) is corrected here, as --map does.
            scored = [f for f in ingest.SCORE_FIELDS if mapping.get(f)]
            given: dict[str, str] = {}
            if scored:
                with st.expander(t("data.scales_title")):
                    auto = t("data.scale_auto")
                    cells = st.columns(min(len(scored), 4))
                    for i, f in enumerate(scored):
                        picked = cells[i % len(cells)].selectbox(
                            field_label(f), [auto, "1-5", "0-10", "0-100"], key=f"scale_{number}_{f}"
                        )
                        if picked != auto:
                            given[f] = picked
            document = {"kind": kind, "columns": mapping, "scales": given}
            st.download_button(
                t("data.save_mapping"),
                json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"),
                file_name=f"mapping_{kind}.json",
                mime="application/json",
                key=f"save_map_{number}",
            )
            try:
                with reading() as cur:
                    plan = ingest.plan_import(cur, raw, kind, document)
            except UserError as exc:
                st.error(t("data.refused", file=plain(upload.name), reason=plain(exc.words(lang()))))
                continue
            st.info(
                t(
                    "data.report",
                    insert=plan.to_insert,
                    update=plan.to_update,
                    unchanged=plan.unchanged,
                    reject=len(plan.rejects["source_row"].unique()) if len(plan.rejects) else 0,
                    dup=plan.duplicates_in_file,
                )
            )
            if plan.scales:
                st.caption(
                    t(
                        "data.scales",
                        scales=", ".join(f"{field_label(k)}: {v}" for k, v in plan.scales.items()),
                    )
                )
            if plan.unrated_zeros:
                st.caption(
                    t(
                        "data.unrated_zeros",
                        columns=plain(
                            ", ".join(
                                f"{plan.mapping.get(k, k)} ({n:,})" for k, n in plan.unrated_zeros.items()
                            )
                        ),
                    )
                )
            for field_name, cells in plan.unrecognised.items():
                # A type no word or code names counts as other: said before the import, with its rows.
                st.caption(
                    t(
                        "data.unrecognised_types",
                        column=plain(plan.mapping.get(field_name, field_name)),
                        n=f"{sum(cells.values()):,}",
                        values=plain(
                            ", ".join(f"{cell} ({n:,})" for cell, n in list(cells.items())[:10])
                            + (" …" if len(cells) > 10 else "")
                        ),
                    )
                )
            if plan.unmapped:
                st.caption(t("data.unmapped", columns=plain(", ".join(plan.unmapped))))
            if len(plan.sheets) > 1:
                show_table(people_table(ingest.sheet_table(plan.sheets, lang())))
            if len(plan.notes):
                st.markdown(t("data.blanked", n=len(plan.notes)))
                show_table(people_table(ingest.reject_table(plan.notes, lang())))
            st.markdown(t("data.preview"))
            show_table(people_table(plan.staged.head(20)))
            if len(plan.rejects):
                st.markdown(t("data.rejects"))
                show_table(people_table(ingest.reject_table(plan.rejects, lang())))
            if st.button(
                t("data.import_button", file=plain(upload.name)), type="primary", key=f"import_{number}"
            ) and authorize("import"):
                try:
                    with writing() as cur:
                        result = ingest.import_file(
                            cur,
                            content,
                            file_name=upload.name,
                            kind=kind,
                            mapping=document,
                            who=current_user().username,
                            progress=progress_bar(t("data.importing", file=plain(upload.name))),
                        )
                except UserError as exc:
                    st.error(t("data.refused", file=plain(upload.name), reason=plain(exc.words(lang()))))
                else:
                    clear_caches()
                    record(
                        "import",
                        {
                            "import_id": result.import_id,
                            "file": upload.name,
                            "kind": kind,
                            "inserted": result.inserted,
                            "updated": result.updated,
                            "rejected": result.rejected,
                        },
                    )
                    st.success(
                        t(
                            "data.imported",
                            id=result.import_id,
                            inserted=result.inserted,
                            updated=result.updated,
                            unchanged=result.unchanged,
                            rejected=result.rejected,
                        )
                    )


filters()
st.title(t("data.title"))
names = [t("data.tab_import"), t("data.tab_history"), t("data.tab_quality")]
if can().see_audit:
    names.append(t("data.tab_audit"))
tabs = st.tabs(names)
tab_import, tab_history, tab_quality = tabs[:3]

if can().see_audit:
    with tabs[3]:
        st.caption(t("data.audit_caption"))
        # One kind of event at a time, so that a run of failed sign-ins hides no export or import.
        action = st.selectbox(
            t("data.audit_show"),
            [None, *audit.ACTIONS],
            format_func=lambda a: t("data.audit_every_action") if a is None else t(f"audit_action.{a}"),
            key="audit_action",
        )
        # Read afresh on every run (the log grows without a data version change); shown as text.
        # From the database file, also when the pages read a Parquet export.
        with audit_reading() as cur:
            entries = audit.entries(cur, 500, action=action)
        show_table(
            people_table(
                audit.readable(entries, protect_text, detail_words),
                {"role": "auth.role", "action": "audit_action"},
            ),
            key="audit_log",
        )


with tab_import:
    if can().import_data:
        import_tab()
    else:
        st.info(t("data.role_read_only", role=t(f"auth.role.{current_user().role}")))

with tab_history:
    history = load("imports.log")
    if history.empty:
        st.info(t("data.history_empty"))
    else:
        show_table(
            people_table(protect(history), {"kind": "import_kind", "status": "import_status"}),
        )
        done = history.loc[history["status"] == "done", "import_id"].tolist()
        if done and can().import_data:
            # Each import by its number and file (the number alone sent the reader back to the table).
            files = {
                i: f"{i} · {protect_text(str(name))}"
                for i, name in zip(history["import_id"], history["file_name"], strict=True)
            }
            chosen = st.selectbox(
                t("data.rollback_choose"), done, format_func=lambda i: files.get(i, str(i)), key="rollback_id"
            )
            confirmed = st.checkbox(t("data.rollback_confirm"), key="rollback_ok")
            if st.button(t("data.rollback_button"), disabled=not confirmed, key="rollback_go") and authorize(
                "rollback"
            ):
                try:
                    with writing() as cur:
                        outcome = ingest.rollback(cur, int(chosen))
                except UserError as exc:
                    st.error(plain(exc.words(lang())))
                else:
                    clear_caches()
                    record("rollback", outcome)
                    st.success(
                        t(
                            "data.rolled_back",
                            id=chosen,
                            deleted=outcome["deleted"],
                            restored=outcome["restored"],
                        )
                        + (" " + t("data.rolled_back_kept", kept=outcome["kept"]) if outcome["kept"] else "")
                    )

with tab_quality:
    st.caption(t("data.quality_intro"))
    counts = load("quality.summary")
    checked = load("quality.checked")
    # The numbers on one line under labels that wrap to different heights.
    columns = st.columns(len(quality.CHECKS), vertical_alignment="bottom")
    for column, check in zip(columns, quality.CHECKS, strict=True):
        column.metric(t(f"quality.{check}"), f"{counts[check]:,}")
        # A count is read against what the check looked at: 12 of 40,000 orders is not 12 of 40.
        if checked[check]:
            share = counts[check] / checked[check]
            shown = f"{share:.1%}" if share >= 0.001 or not counts[check] else "<0.1%"
            column.caption(t(f"quality.checked.{check}", share=shown, n=f"{checked[check]:,}"))
    for check in quality.CHECKS:
        if not counts[check]:
            continue
        with st.expander(f"{t(f'quality.{check}')} ({counts[check]:,})"):
            rows = load("quality.finding", check=check)
            table = people_table(
                protect(rows),
                {"table_name": "quality.table", "problem": "quality.problem", "reason": "quality.reason"},
            )
            show_table(table)
            download_buttons(rows, f"quality_{check}", key=f"dl_{check}")

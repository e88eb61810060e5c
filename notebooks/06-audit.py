# %% [markdown]
# # 06 · After the finding: response pack, the watch and account hygiene
#
# Once the leak path is known, three things are owed:
# 1. **the buyers it exposed** — a reminder by SMS that calls quoting their order
#    are scams (phone numbers stay masked unless `REVEAL_CONTACTS = True`; the file is
#    then named `affected_buyers.SENSITIVE.csv`);
# 2. **the platform** — one line per complaint saying what is *established* about it
#    (`basis`), never a guess presented as fact;
# 3. **the shop** — a remediation checklist, leak path first, every item citing the
#    file and row behind it.
#
# The second half is the **audit**, run from the case data alone, before any complaint:
# the **watch** ranks people by how far they departed from their own and their role's
# baseline (hours, machines, devices, volume), and the **hygiene** checks list the
# weaknesses a leak goes through (a leaver's account still enabled, export rights nobody
# needs, apps with broad scopes, USB sticks moving between desks).
# Everything is written to `OUT`, outside the case folder.

# %% tags=["parameters"]
CASE = "../datasets/april-trojan"
OUT = "../out/notebook-respond"
REVEAL_CONTACTS = False

# %%
import polars as pl

from forensics.case import typed_like
from forensics.response.leakpath import infection_windows
from forensics.response.respond import respond, summary_text, write_pack
from forensics.views import notebook
from forensics.views.widgets import show_table
from forensics.watch import audit, write_audit
from forensics.watch import summary_text as audit_summary
from forensics.watch.charts import activity_vs_baseline

findings = notebook.open_case(CASE)
out = notebook.output_folder(OUT, CASE)
TZ = findings.case.timezone()
pack = respond(findings, reveal_contacts=REVEAL_CONTACTS)

# %%
# NBVAL_CHECK_OUTPUT
print(summary_text(pack, top=8))

# %% [markdown]
# ## 1. Buyers to warn
# One row per buyer: the path that exposed them, when first, the access row, and
# whether they already complained (those have heard from the scammer already; the
# others are next).

# %%
show_table(pack.buyers, reveal=REVEAL_CONTACTS, max_rows=15)

# %% [markdown]
# The list must hold every buyer whose order an infected machine showed after its
# infection (and before the antivirus quarantined the implant, where it did). Checked
# here directly on the access events, independently of how the list was built:

# %%
win = infection_windows(findings)
# The events hold the access log's ids coded (Categorical): typed_like codes
# the small table's machine_id alike so that the two join.
seen = findings.events.join(typed_like(win, findings.events, "machine_id"), on="machine_id").filter(
    (pl.col("at") >= pl.col("since"))
    & (pl.col("until").is_null() | (pl.col("at") < pl.col("until")))
)
index = findings.case.orders.sort("placed_at", "order_id").with_row_index("idx")
shown = seen.select(pl.int_ranges("lo", "hi").alias("idx")).explode("idx").unique()
buyers = set(index.join(shown.cast(pl.UInt32), on="idx")["buyer_id"])
assert buyers <= set(pack.buyers["buyer_id"]), "a buyer exposed on an infected machine is missing"
print(f"{len(buyers)} buyers seen on {win.height} infected machines: all on the list")

# %% [markdown]
# ## 2. The platform report
# `basis` says what is established: the buyer named the order and the path showed it
# before the call; or the buyer only gave their id and one of their orders was shown
# (which one the scammer quoted is not known); or the path showed it only after the
# call; or not at all (their data leaked elsewhere).

# %%
show_table(pack.platform, max_rows=15)

# %% [markdown]
# ## 3. Remediation, most urgent first

# %%
checklist = pl.DataFrame(
    [
        {
            "priority": a.priority,
            "action": a.action,
            "reason": a.reason,
            "evidence": "; ".join(f"{c.source} row {c.row}" for c in a.evidence),
        }
        for a in pack.actions
    ]
)
show_table(checklist, max_rows=25, max_chars=160)

# %%
# NBVAL_CHECK_OUTPUT
leak_targets = (
    set(findings.vector.machines) | set(findings.vector.accounts) | set(findings.vector.apps)
)
top = {a.target for a in pack.actions[: len(leak_targets)]}
assert top == leak_targets, "the checklist does not start with the leak path"
print("first items:", ", ".join(sorted(top)))

# %% [markdown]
# ## 4. The watch: people against their own baseline
# From the case data alone: no complaint is needed, so a shop can run it any day. Each
# person's hours, machines, devices and order volume are learnt from their own earlier
# days (their role's where they have few); each day that departs from them is a signal,
# and the signals add up to one score per person (docs/method.md, "The watch"). Every
# reason cites the file and row behind it.

# %%
hygiene = audit(findings.case)
show_table(
    hygiene.people.select("rank", "person_id", "score", "reasons"), max_rows=8, max_chars=220
)

# %% [markdown]
# Without any complaint, the watch ranks first the person the investigation names:

# %%
# NBVAL_CHECK_OUTPUT
top = hygiene.people.row(0, named=True)
assert top["person_id"] == findings.suspects[0].person_id, "the watch ranks someone else first"
print(
    f"{top['person_id']}: score {top['score']:.2f}, first of {hygiene.people.height} with signals"
)

# %% [markdown]
# Each top person's active hours, day by day: grey while the baseline was learnt, blue at
# hours usual for them, red at hours unusual for them; a cross marks a signal (a new
# device, a desk of someone else, ...).

# %%
activity_vs_baseline(hygiene.watch, top=3, tz=TZ)

# %% [markdown]
# ## 5. Account hygiene

# %%
# NBVAL_CHECK_OUTPUT
print(audit_summary(hygiene, limit=12, people=0))

# %%
show_table(hygiene.off_hours, max_rows=10)

# %%
show_table(hygiene.usb, tz=TZ, max_rows=10)

# %% [markdown]
# ## 6. Files
# CSV cells that a spreadsheet would run as formulas are defused; no phone number is
# written whole unless `REVEAL_CONTACTS`.

# %%
written = write_pack(pack, out) | write_audit(hygiene, out, tz=TZ)
text = "\n".join(p.read_text(encoding="utf-8") for p in written.values())
phones = findings.case.orders["phone"].drop_nulls()
assert REVEAL_CONTACTS or not any(p in text for p in phones), "an unmasked phone number"

# %%
# NBVAL_CHECK_OUTPUT
print("\n".join(sorted(p.name for p in written.values())))

# %% [markdown]
# # 00 · Investigate a case: a first look
#
# Buyers are getting scam calls from people who know their orders. This notebook
# opens a case folder (see `CASE_FORMAT.md`), runs the whole investigation and strings
# together the views the other notebooks take one at a time:
# [01 complaints](01-complaints.ipynb) ·
# [02 common point](02-common-point.ipynb) ·
# [03 timeline](03-timeline.ipynb) ·
# [04 graph and suspects](04-graph-and-suspects.ipynb) ·
# [05 report](05-report.ipynb).
#
# To open another case, change `CASE` below (or run with papermill `-p CASE ...`).
# `NOTES` names an investigator's notes file (JSONL, outside the case; written by the
# review widget of [04](04-graph-and-suspects.ipynb)) to investigate with.

# %% tags=["parameters"]
CASE = "../datasets/april-trojan"
REVEAL = False
NOTES = None

# %%
from forensics.case.notes import load_notes
from forensics.views import charts, notebook
from forensics.views.widgets import coverage_view, show_table, timeline_view

findings = notebook.open_case(CASE, notes=load_notes(NOTES) if NOTES else None)
top = findings.suspects[0].person_id if findings.suspects else None

# %% [markdown]
# ## What was read
# Rows read = accepted + quarantined, for every file; damaged rows are kept aside with
# their reason, never dropped silently.

# %%
# NBVAL_CHECK_OUTPUT
show_table(notebook.inputs_table(findings))

# %% [markdown]
# ## The conclusions

# %%
# NBVAL_CHECK_OUTPUT
print(notebook.headline(findings))

# %% [markdown]
# ## 1. The complaint spike

# %%
charts.complaint_spike(findings)

# %% [markdown]
# ## 2. The common point of the complained orders

# %%
coverage_view(findings, significant_only=True)

# %% [markdown]
# ## 3. The timeline of the top suspect (if any)

# %%
timeline_view(findings, person=top)

# %% [markdown]
# ## 4. From the complaints to the people

# %%
charts.evidence_graph(findings)

# %%
# NBVAL_CHECK_OUTPUT
print(notebook.suspects_summary(findings))

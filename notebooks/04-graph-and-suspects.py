# %% [markdown]
# # 04 · Evidence graph and suspects
#
# A graph of the investigation's entities only (complaints, the order sets each
# significant path exposed, the paths, people), every edge carrying the file and row
# that support it. A suspect's explanation is the set of paths from the complaints
# to that person. Each suspect's score is a posterior probability; the evidence
# against them is listed as plainly as the evidence for.

# %% tags=["parameters"]
CASE = "../datasets/april-trojan"
NOTES = None

# %%
from IPython.display import display

from forensics.analysis.graph import explain
from forensics.case.notes import load_notes
from forensics.views import charts, notebook
from forensics.views.review import ReviewView
from forensics.views.widgets import show_table

findings = notebook.open_case(CASE, notes=load_notes(NOTES) if NOTES else None)
TZ = findings.case.timezone()

# %%
charts.evidence_graph(findings)

# %% [markdown]
# ## Who, if anyone
# Nobody is named for a third-party app, when no path is significant, or when no
# one is linked to the leak path: then this says so.

# %%
# NBVAL_CHECK_OUTPUT
print(notebook.suspects_summary(findings))

# %% [markdown]
# Every evidence item names a file of the case and a row in it, so it can be checked
# by hand.

# %%
files = {f.file for f in findings.case.inputs}
assert all(e.source in files and e.row > 0 for s in findings.suspects for e in s.evidence)

# %% [markdown]
# ## Paths from the complaints to each suspect

# %%
# NBVAL_CHECK_OUTPUT
for s in findings.suspects:
    print(f"{s.person_id}:")
    print("\n".join(f"  {path}" for path in explain(findings.graph, s.person_id)))

# %% [markdown]
# ## Evidence for and against, row by row

# %%
for s in findings.suspects:
    for direction in ("for", "against"):
        rows = notebook.evidence_table(s, direction=direction)
        display(show_table(rows, tz=TZ, caption=f"{s.person_id}: evidence {direction}"))

# %% [markdown]
# ## What to check next, and your notes
# `to_review` lists the evidence that would most change the answer if you settled it
# (who is on this footage, whom to interview, which machine to image). Answer an item
# below: Identify, Exclude and Comment each append one line to `../out/notes.jsonl`,
# beside the case, never inside it. Then set `NOTES = "../out/notes.jsonl"` in the
# parameters cell (or papermill `-p NOTES ...`) and run again: each note is checked
# against the record, applied unless the record contradicts it, and cited as
# `notes.jsonl` line N in the evidence above.

# %%
ReviewView(findings, "../out/notes.jsonl")

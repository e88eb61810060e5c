# %% [markdown]
# # 03 · Timeline: one clock, every source
#
# Logins, order access, endpoint events, badge swipes and camera sightings on one
# timeline, on the back-office clock. A camera marked `clock = "unsynchronized"` may
# run minutes off: its offset is estimated by aligning sightings with USB connections,
# logins and badge swipes on the same desk, and removed before anything is compared.
#
# Anomalies (off-hours presence, USB devices, new hires' first days, ...) are marked.
#
# `NOTES` names an investigator's notes file (JSONL, outside the case): the events its
# notes name are marked on the timeline, and the tags and comments written below go to
# it (to `../out/notes.jsonl` when it is not set).

# %% tags=["parameters"]
CASE = "../datasets/april-trojan"
NOTES = None

# %%
from forensics.case.notes import load_notes
from forensics.views import notebook
from forensics.views.widgets import show_table, timeline_view

findings = notebook.open_case(CASE, notes=load_notes(NOTES) if NOTES else None)
TZ = findings.case.timezone()
top = findings.suspects[0].person_id if findings.suspects else None

# %% [markdown]
# ## The clock offset

# %%
# NBVAL_CHECK_OUTPUT
print(notebook.clock_summary(findings))

# %% [markdown]
# Camera sightings of a device being inserted: as recorded, as corrected, and the
# USB connection the endpoint log shows on the same machine.

# %%
show_table(notebook.clock_comparison(findings, person=top), max_rows=10)

# %% [markdown]
# ## The timeline
# Choose a person, a machine and days; the top suspect (if any) is preselected.
# Click a mark (or pick the box select in the chart's toolbar and drag over several) to
# choose those events, then write a tag or a comment: each is one line of the notes
# file citing the event's file and row, and the timeline is redrawn with the noted
# events framed in blue. Run the notebook again with `NOTES` set to that file for the
# investigation itself to read them.

# %%
timeline_view(findings, person=top, notes=NOTES or "../out/notes.jsonl")

# %% [markdown]
# ## Anomalies of the suspects
# Indicators never name a person by themselves; they only weigh on people the
# evidence already links to the leak path.

# %%
show_table(notebook.anomalies(findings), tz=TZ, max_rows=20)
